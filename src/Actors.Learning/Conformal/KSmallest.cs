namespace Actors.Learning.Conformal;

/// <summary>The k smallest of a stream of distances, kept sorted in a caller-owned buffer (k is small: 1..50).</summary>
internal ref struct KSmallest
{
    private readonly Span<double> _buffer;
    private int _filled;

    public KSmallest(Span<double> buffer)
    {
        _buffer = buffer;
        _filled = 0;
    }

    public readonly int Count => _filled;

    public void Offer(double value)
    {
        int k = _buffer.Length;
        if (_filled == k)
        {
            if (value >= _buffer[k - 1]) return;
            _filled--;
        }
        int pos = _filled;
        while (pos > 0 && _buffer[pos - 1] > value)
        {
            _buffer[pos] = _buffer[pos - 1];
            pos--;
        }
        _buffer[pos] = value;
        _filled++;
    }

    /// <summary>Sum in ascending order and the k-th smallest; throws when fewer than k values were offered.</summary>
    public readonly (double Sum, double Kth) SumAndKth(string what)
    {
        if (_filled < _buffer.Length)
            throw new InvalidOperationException($"{what}: only {_filled} candidates for k = {_buffer.Length}");
        double sum = 0;
        for (int i = 0; i < _filled; i++) sum += _buffer[i];
        return (sum, _buffer[_filled - 1]);
    }

    /// <summary>
    /// The k smallest distances of one row to examples with label == <paramref name="label"/> (same = true) or != label,
    /// skipping index <paramref name="skip"/> (the example itself; -1 for none).
    /// </summary>
    public static (double Sum, double Kth) Select(ReadOnlySpan<double> row, ReadOnlySpan<int> labels, int skip, int label, bool same, Span<double> buffer)
    {
        var sel = new KSmallest(buffer);
        for (int j = 0; j < row.Length; j++)
        {
            if (j == skip || (labels[j] == label) != same) continue;
            sel.Offer(row[j]);
        }
        return sel.SumAndKth(same ? $"same-label neighbours of label {label}" : $"other-label neighbours of label {label}");
    }
}
