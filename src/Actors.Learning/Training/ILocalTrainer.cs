using TorchSharp;

namespace Actors.Learning.Training;

/// <summary>
/// What a worker computes on a model version: the vector it sends. A classifier's worker (<see cref="LocalTrainer"/>) sends
/// its minibatch gradient with worker momentum; a game's worker sends both players' gradients (<c>Games.GameTrainer</c>).
/// The actors only know this interface.
/// </summary>
public interface ILocalTrainer : IDisposable
{
    /// <summary>Size of the vectors it computes.</summary>
    long ParameterCount { get; }

    /// <summary>The raw stochastic gradient at <paramref name="parameters"/> (what bit-flip and label-flip attackers start from) and its loss.</summary>
    (torch.Tensor Gradient, double Loss) Gradient(torch.Tensor parameters);

    /// <summary>The vector this worker sends for <paramref name="parameters"/> (caller owns it).</summary>
    torch.Tensor ComputeUpdate(torch.Tensor parameters);

    /// <summary>
    /// After <see cref="ComputeUpdate"/>: this work is lost (a federated client that vanished mid-round). The worker then
    /// sends, when its compute time has passed, only that it has no update, and the round closes without it.
    /// </summary>
    bool Withheld => false;
}

/// <summary>
/// A trainer whose next call needs state kept elsewhere and whose calls write state back (a federated client's control
/// variate on a cluster). The worker actor waits for <see cref="Prepare"/> before computing and for <see cref="TakeWrites"/>
/// before sending, by messages to itself: no thread blocks on the I/O.
/// </summary>
public interface IStatefulTrainer
{
    /// <summary>Fetches what the next <see cref="ILocalTrainer.ComputeUpdate"/> needs; a completed task when there is nothing to fetch.</summary>
    Task Prepare();

    /// <summary>The writes the last call started (completed when none); the update may be sent once they are done.</summary>
    Task TakeWrites();
}
