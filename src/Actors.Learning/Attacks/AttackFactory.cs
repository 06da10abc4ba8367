namespace Actors.Learning.Attacks;

/// <summary>The `attack { ... }` block. Null means the attack's default (eps: 0.1; z: from n and f).</summary>
/// <param name="Omniscient">Attackers see the honest updates of the round (the runtime's explicit tap).</param>
public sealed record AttackSettings(
    string Type = "none",
    double? Eps = null,
    double? Z = null,
    double Sigma = 1,
    int Lag = 1,
    int Rate = 10,
    string? Base = null,
    int Classes = 10,
    bool Omniscient = true);

/// <summary>The only place that maps `attack.type` names to implementations.</summary>
public static class AttackFactory
{
    public static readonly string[] Types =
        ["none", "bitflip", "labelflip", "ipm", "alie", "mimic", "gaussian", "last-mover", "drift", "stale-replay", "flood"];

    /// <summary>Bases allowed for last-mover (omniscient ones) and flood (any single-vector attack).</summary>
    public static readonly string[] LastMoverBases = ["alie", "ipm"];
    public static readonly string[] FloodBases = ["bitflip", "labelflip", "ipm", "alie", "mimic", "gaussian", "drift", "stale-replay"];

    /// <summary>
    /// Builds the attack for <paramref name="n"/> workers of which <paramref name="f"/> are Byzantine; null for "none".
    /// Throws <see cref="ArgumentException"/> naming the key, the bad value and the valid choices.
    /// </summary>
    public static IAttack? Create(AttackSettings settings, int n, int f)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (!Types.Contains(settings.Type))
        {
            throw new ArgumentException($"attack.type = '{settings.Type}' is unknown (valid: {string.Join(", ", Types)})");
        }
        if (f < 0 || f >= n) throw new ArgumentException($"workers.byzantine = {f} is invalid: need 0 <= f < n = {n}");
        return settings.Type switch
        {
            "none" => null,
            "last-mover" => new LastMover(Single(settings with { Type = Pick(settings.Base ?? "alie", LastMoverBases) }, n, f)),
            "flood" => new Flood(Single(settings with { Type = Pick(settings.Base ?? "bitflip", FloodBases) }, n, f), settings.Rate),
            _ => Single(settings, n, f),
        };
    }

    private static string Pick(string name, string[] valid) =>
        valid.Contains(name) ? name : throw new ArgumentException($"attack.base = '{name}' is invalid here (valid: {string.Join(", ", valid)})");

    private static IAttack Single(AttackSettings s, int n, int f) => s.Type switch
    {
        "bitflip" => new BitFlip(),
        "labelflip" => new LabelFlip(s.Classes),
        "ipm" => new Ipm(s.Eps ?? 0.1),
        "alie" => new Alie(s.Z ?? Alie.DefaultZ(n, f)),
        "mimic" => new Mimic(),
        "gaussian" => new GaussianNoise(s.Sigma),
        "drift" => new Drift(s.Eps ?? 0.1),
        "stale-replay" => new StaleReplay(s.Lag),
        _ => throw new InvalidOperationException($"unreachable attack type {s.Type}"),
    };
}
