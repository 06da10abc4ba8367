using Actors.Learning.Data;

namespace Actors.Learning.Tests.Data;

public sealed class IdxReaderSpec : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("idx").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    [Theory]
    [InlineData("a.idx")]
    [InlineData("a.idx.gz")]
    public void Reads_what_was_written(string name)
    {
        var path = Path.Combine(_dir, name);
        var data = Enumerable.Range(0, 2 * 3 * 4).Select(i => (byte)i).ToArray();
        IdxReader.Write(path, [2, 3, 4], data);
        var read = IdxReader.Read(path);
        Assert.Equal([2, 3, 4], read.Shape);
        Assert.Equal(data, read.Data);
        Assert.Equal(12, read.ItemSize);
    }

    [Fact]
    public void Truncated_file_is_a_clear_error()
    {
        var path = Path.Combine(_dir, "t.idx");
        IdxReader.Write(path, [10, 28, 28], new byte[10 * 28 * 28]);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..500]);
        var e = Assert.Throws<DatasetFormatException>(() => IdxReader.Read(path));
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void Bad_magic_is_a_clear_error()
    {
        var path = Path.Combine(_dir, "m.idx");
        File.WriteAllBytes(path, [1, 2, 3, 4, 5, 6, 7, 8]);
        var e = Assert.Throws<DatasetFormatException>(() => IdxReader.Read(path));
        Assert.Contains("not an IDX file", e.Message);
    }

    [Fact]
    public void Corrupt_gzip_is_a_clear_error()
    {
        var path = Path.Combine(_dir, "c.idx.gz");
        File.WriteAllBytes(path, [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 99, 99, 99, 99]);
        Assert.Throws<DatasetFormatException>(() => IdxReader.Read(path));
    }

    [Fact]
    public void Loads_a_generated_mnist_folder_with_normalization()
    {
        var images = new byte[5 * 28 * 28];
        images[0] = 255;
        IdxReader.Write(Path.Combine(_dir, "train-images-idx3-ubyte.gz"), [5, 28, 28], images);
        IdxReader.Write(Path.Combine(_dir, "train-labels-idx1-ubyte.gz"), [5], [0, 1, 2, 3, 9]);
        IdxReader.Write(Path.Combine(_dir, "t10k-images-idx3-ubyte"), [2, 28, 28], new byte[2 * 28 * 28]);
        IdxReader.Write(Path.Combine(_dir, "t10k-labels-idx1-ubyte"), [2], [4, 5]);
        using var bundle = DatasetLocator.Load("fashion-mnist", _dir, 1, _ => Assert.Fail("no fallback expected"));
        Assert.False(bundle.IsSynthetic);
        Assert.Equal([5L, 1, 28, 28], bundle.Train.Features.shape);
        Assert.Equal(9L, bundle.Train.Labels[4].item<long>());
        Assert.Equal((1 - 0.2860f) / 0.3530f, bundle.Train.Features[0, 0, 0, 0].item<float>(), 4);
        Assert.Equal((0 - 0.2860f) / 0.3530f, bundle.Train.Features[0, 0, 0, 1].item<float>(), 4);
    }

    [Fact]
    public void Label_count_mismatch_is_a_clear_error()
    {
        IdxReader.Write(Path.Combine(_dir, "train-images-idx3-ubyte"), [3, 28, 28], new byte[3 * 28 * 28]);
        IdxReader.Write(Path.Combine(_dir, "train-labels-idx1-ubyte"), [2], [0, 1]);
        IdxReader.Write(Path.Combine(_dir, "t10k-images-idx3-ubyte"), [2, 28, 28], new byte[2 * 28 * 28]);
        IdxReader.Write(Path.Combine(_dir, "t10k-labels-idx1-ubyte"), [2], [4, 5]);
        var e = Assert.Throws<DatasetFormatException>(() => DatasetLocator.Load("fashion-mnist", _dir, 1, _ => { }));
        Assert.Contains("3 images but 2 labels", e.Message);
    }
}
