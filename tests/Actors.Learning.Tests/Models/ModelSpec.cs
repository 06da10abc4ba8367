using Actors.Learning.Models;
using TorchSharp;

namespace Actors.Learning.Tests.Models;

public class ModelSpec
{
    [Theory]
    [InlineData("logreg", 784 * 10 + 10)]
    [InlineData("mlp", 784 * 256 + 256 + 256 * 10 + 10)]
    [InlineData("cnn", 1 * 32 * 9 + 32 + 32 * 64 * 9 + 64 + 9216 * 128 + 128 + 128 * 10 + 10)]
    public void Models_have_the_published_shapes(string type, long parameters)
    {
        using var model = ModelFactory.Create(type, [1, 28, 28], 10);
        Assert.Equal(parameters, FlatParameters.Count(model));
        using var x = torch.zeros(4, 1, 28, 28);
        using var y = model.forward(x);
        Assert.Equal([4L, 10], y.shape);
    }

    [Fact]
    public void Flat_vector_round_trips()
    {
        using var model = ModelFactory.Create("mlp", [1, 28, 28], 10);
        using var v = torch.arange(FlatParameters.Count(model), dtype: torch.float32);
        FlatParameters.Set(model, v);
        using var back = FlatParameters.Get(model);
        Assert.Equal(v.data<float>().ToArray(), back.data<float>().ToArray());
        Assert.Throws<ArgumentException>(() => FlatParameters.Set(model, torch.zeros(10)));
    }

    [Fact]
    public void Unknown_model_names_the_choices()
    {
        var e = Assert.Throws<ArgumentException>(() => ModelFactory.Create("resnet", [1, 28, 28], 10));
        Assert.Contains("logreg, mlp, cnn", e.Message);
    }
}
