namespace Actors.Learning.Federated;

/// <summary>`federated.algorithm`: what a sampled client does in its K local steps and what the server does with the cohort's messages.</summary>
public enum FederatedAlgorithm
{
    /// <summary>McMahan et al. 2017: K local SGD steps, the server moves by server-lr times the mean of the deltas.</summary>
    Fedavg,

    /// <summary>Fedavg with server momentum (Hsu et al. 2019): v = beta v + mean delta, x -= server-lr v.</summary>
    Fedavgm,

    /// <summary>Li et al. 2020: local steps on f_i(y) + mu/2 ||y - x||^2.</summary>
    Fedprox,

    /// <summary>Karimireddy et al. 2020 (option II): local steps corrected by c - c_i; control variates sent back.</summary>
    Scaffold,

    /// <summary>Karimireddy et al. 2021: the base optimizer with the server's frozen state, SVRG-corrected gradients (two phases per round).</summary>
    Mime,

    /// <summary>Mime without the correction: the frozen server state only; the state advances with the clients' full-batch gradients.</summary>
    Mimelite,
}

/// <summary>`federated.base-optimizer`: the centralized method Mime and Mimelite mimic.</summary>
public enum BaseOptimizer
{
    Sgd,
    Momentum,
    Adam,
}

/// <summary>The `federated.*` section.</summary>
public sealed record FederatedSettings(
    FederatedAlgorithm Algorithm = FederatedAlgorithm.Fedavg,
    int Clients = 100,
    int ClientsPerRound = 10,
    int LocalSteps = 10,
    double ServerLr = 1.0,
    double ServerMomentum = 0.9,
    BaseOptimizer BaseOptimizer = BaseOptimizer.Momentum,
    double ProxMu = 0.01,
    double Dropout = 0)
{
    public bool IsMime => Algorithm is FederatedAlgorithm.Mime or FederatedAlgorithm.Mimelite;

    /// <summary>Server versions per round: Mime first gathers the full-batch gradients at x (the correction c), then the local steps.</summary>
    public int PhasesPerRound => Algorithm == FederatedAlgorithm.Mime ? 2 : 1;

    /// <summary>Vectors of the model's size in the base optimizer's state (Mime, Mimelite): momentum 1, Adam 2, SGD 0.</summary>
    public int BaseStateVectors => !IsMime ? 0 : BaseOptimizer switch { BaseOptimizer.Sgd => 0, BaseOptimizer.Momentum => 1, _ => 2 };

    /// <summary>
    /// The server state the broadcast carries, in model-sized blocks after x: SCAFFOLD its control variate c; Mime the
    /// base optimizer's state and the correction c; Mimelite the base optimizer's state.
    /// </summary>
    public IReadOnlyList<string> StateBlocks => Algorithm switch
    {
        FederatedAlgorithm.Scaffold => ["control"],
        FederatedAlgorithm.Mime => [.. BaseBlocks, "correction"],
        FederatedAlgorithm.Mimelite => BaseBlocks,
        _ => [],
    };

    private string[] BaseBlocks => BaseStateVectors switch { 0 => [], 1 => ["momentum"], _ => ["adam_m", "adam_v"] };

    /// <summary>
    /// What a client sends, in model-sized blocks: the delta x - y always; SCAFFOLD adds its control-variate change,
    /// Mimelite its full-batch gradient at x. (Mime's first phase sends its full-batch gradient in the delta's place.)
    /// </summary>
    public IReadOnlyList<string> MessageBlocks => Algorithm switch
    {
        FederatedAlgorithm.Scaffold => ["delta", "control_delta"],
        FederatedAlgorithm.Mimelite => ["delta", "full_gradient"],
        _ => ["delta"],
    };
}
