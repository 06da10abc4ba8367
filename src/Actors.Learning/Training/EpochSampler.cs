using Actors.Learning.Data;

namespace Actors.Learning.Training;

/// <summary>
/// Minibatch positions over a shard of <c>count</c> examples, without replacement within an epoch and reshuffled each
/// epoch from <paramref name="rng"/> (PyTorch's DataLoader(shuffle=True)); a batch of the whole shard is the shard in order.
/// </summary>
public sealed class EpochSampler(int count, int batchSize, Random rng)
{
    private readonly int _batch = batchSize <= 0 ? count : Math.Min(batchSize, count);
    private long[] _order = [];
    private int _cursor;

    public int BatchSize => _batch;

    public long[] Next()
    {
        if (_batch == count) return _order.Length == count ? _order : _order = Enumerable.Range(0, count).Select(i => (long)i).ToArray();
        if (_order.Length != count || _cursor + _batch > _order.Length)
        {
            _order = Partitioner.Permutation(count, rng);
            _cursor = 0;
        }
        var batch = _order[_cursor..(_cursor + _batch)];
        _cursor += _batch;
        return batch;
    }
}
