namespace Actors.Learning.Conformal;

/// <summary>
/// A bag of labelled examples for conformal prediction: row-major double features [Count, Dimension] and labels in
/// 0..Classes-1. Immutable by convention (the arrays are shared, never written after construction).
/// </summary>
public sealed class LabelledData
{
    public LabelledData(double[] features, int[] labels, int dimension, int classes)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(labels);
        if (dimension <= 0) throw new ArgumentException($"feature dimension must be positive, got {dimension}", nameof(dimension));
        if (classes <= 0) throw new ArgumentException($"number of classes must be positive, got {classes}", nameof(classes));
        if (features.Length != labels.Length * dimension)
            throw new ArgumentException(
                $"mismatched feature dimensions: {features.Length} feature values for {labels.Length} examples of dimension {dimension}");
        foreach (var y in labels)
            if (y < 0 || y >= classes) throw new ArgumentException($"label {y} out of range 0..{classes - 1}", nameof(labels));
        Features = features;
        Labels = labels;
        Dimension = dimension;
        Classes = classes;
    }

    public double[] Features { get; }
    public int[] Labels { get; }
    public int Dimension { get; }
    public int Classes { get; }
    public int Count => Labels.Length;

    public ReadOnlySpan<double> Row(int i) => Features.AsSpan(i * Dimension, Dimension);

    /// <summary>Builds a bag from rows; every row must have the same length.</summary>
    public static LabelledData FromRows(IReadOnlyList<double[]> rows, int[] labels, int classes)
    {
        ArgumentNullException.ThrowIfNull(rows);
        if (rows.Count == 0) throw new ArgumentException("a bag needs at least one example", nameof(rows));
        if (rows.Count != labels.Length) throw new ArgumentException($"{rows.Count} rows but {labels.Length} labels");
        int d = rows[0].Length;
        var f = new double[rows.Count * d];
        for (int i = 0; i < rows.Count; i++)
        {
            if (rows[i].Length != d)
                throw new ArgumentException($"mismatched feature dimensions: row {i} has {rows[i].Length} values, row 0 has {d}");
            rows[i].CopyTo(f, i * d);
        }
        return new LabelledData(f, labels, d, classes);
    }

    public int[] ClassCounts()
    {
        var counts = new int[Classes];
        foreach (var y in Labels) counts[y]++;
        return counts;
    }

    /// <summary>The bag with (x, y) appended as the last example: the augmented bag of full CP.</summary>
    public LabelledData Append(ReadOnlySpan<double> x, int y)
    {
        RequireDimension(x);
        var f = new double[Features.Length + Dimension];
        Features.CopyTo(f, 0);
        x.CopyTo(f.AsSpan(Features.Length));
        var l = new int[Count + 1];
        Labels.CopyTo(l, 0);
        l[Count] = y;
        return new LabelledData(f, l, Dimension, Classes);
    }

    /// <summary>The bag without example <paramref name="index"/> (leave one out).</summary>
    public LabelledData Without(int index)
    {
        var keep = new int[Count - 1];
        for (int i = 0, j = 0; i < Count; i++)
            if (i != index) keep[j++] = i;
        return Subset(keep);
    }

    public LabelledData Subset(IReadOnlyList<int> indices)
    {
        ArgumentNullException.ThrowIfNull(indices);
        var f = new double[indices.Count * Dimension];
        var l = new int[indices.Count];
        for (int j = 0; j < indices.Count; j++)
        {
            Row(indices[j]).CopyTo(f.AsSpan(j * Dimension));
            l[j] = Labels[indices[j]];
        }
        return new LabelledData(f, l, Dimension, Classes);
    }

    public void RequireDimension(ReadOnlySpan<double> x)
    {
        if (x.Length != Dimension)
            throw new ArgumentException($"mismatched feature dimensions: test point has {x.Length} features, the training bag has {Dimension}");
    }

    /// <summary>Every label 0..Classes-1 must have at least <paramref name="minimum"/> examples (<paramref name="why"/> says why).</summary>
    public void RequireClassSizes(int minimum, string why)
    {
        var counts = ClassCounts();
        for (int c = 0; c < Classes; c++)
        {
            if (counts[c] == 0)
                throw new ArgumentException($"empty class: label {c} has no training examples (conformal prediction needs every label represented)");
            if (counts[c] < minimum)
                throw new ArgumentException($"label {c} has {counts[c]} training examples but {why} needs at least {minimum}");
        }
    }
}
