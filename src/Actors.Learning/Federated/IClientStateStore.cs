namespace Actors.Learning.Federated;

/// <summary>
/// Where the clients' persistent state (SCAFFOLD's c_i) lives when it is not the process's own memory (a cluster, where a
/// client is hosted by whichever slot samples it, on whichever node). <see cref="SetAsync"/> completes once the value is
/// stored, so a later <see cref="GetAsync"/> of the same client, from any process, sees it.
/// </summary>
public interface IClientStateStore
{
    /// <summary>The client's stored vector, or null when it never reported.</summary>
    Task<float[]?> GetAsync(int client);

    Task SetAsync(int client, float[] value);
}
