namespace Actors.Learning.Federated;

/// <summary>
/// Where the clients' persistent state (SCAFFOLD's c_i) lives when it is not the process's own memory. <see cref="Set"/>
/// returns once the value is stored, so a later <see cref="Get"/> of the same client, from any process, sees it.
/// </summary>
public interface IClientStateStore
{
    /// <summary>The client's stored vector, or null when it never reported.</summary>
    float[]? Get(int client);

    void Set(int client, float[] value);
}
