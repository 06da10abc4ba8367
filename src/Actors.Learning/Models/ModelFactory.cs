using TorchSharp;
using static TorchSharp.torch.nn;

namespace Actors.Learning.Models;

/// <summary>The classifiers of `model.type`. Input is [N, 1, 28, 28] (or [N, D] for flat features).</summary>
public static class ModelFactory
{
    public static readonly string[] Types = ["logreg", "mlp", "cnn", "transformer"];

    /// <summary>
    /// Trainable parameters of a model, computed without building it (memory estimates before torch is loaded); a
    /// transformer's inputs are taken as one square channel.
    /// </summary>
    public static long ParameterCount(ModelArchitecture model, long inputs, int classes)
    {
        ArgumentNullException.ThrowIfNull(model);
        return model.Type switch
        {
            "logreg" => inputs * classes + classes,
            "mlp" => inputs * 256 + 256 + 256L * classes + classes,
            "cnn" => (1 * 32 * 9 + 32) + (32 * 64 * 9 + 64) + (9216L * 128 + 128) + (128L * classes + classes),
            "transformer" => TransformerParameters(model, inputs, classes),
            _ => throw new ArgumentException($"unknown model.type '{model.Type}' (valid: {string.Join(", ", Types)})"),
        };
    }

    /// <summary>The query/key parameters of one attention layer (what collaborative attention shrinks), biases and mixing included.</summary>
    public static long QueryKeyParameters(ModelArchitecture model)
    {
        ArgumentNullException.ThrowIfNull(model);
        long w = model.Width, h = model.Heads, dk = model.EffectiveKeyDim;
        return model.Attention == AttentionKind.Standard ? 2 * (w * w + w) : 2 * w * dk + h * dk + h * w;
    }

    private static long TransformerParameters(ModelArchitecture a, long inputs, int classes)
    {
        long w = a.Width, side = (long)Math.Round(Math.Sqrt(inputs)), tokens = side / a.Patch * (side / a.Patch);
        long embed = a.Patch * a.Patch * w + w + tokens * w;
        long block = 4 * w /* two norms */ + (w * 2 * w + 2 * w) + (2 * w * w + w) /* mlp */ + 2 * (w * w + w) /* value, output */ + QueryKeyParameters(a);
        return embed + a.Layers * block + 2 * w + w * classes + classes;
    }

    public static Module<torch.Tensor, torch.Tensor> Create(ModelArchitecture model, long[] itemShape, int classes)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(itemShape);
        long inputs = itemShape.Aggregate(1L, (a, b) => a * b);
        return model.Type switch
        {
            "logreg" => new LogReg(inputs, classes),
            "mlp" => new Mlp(inputs, 256, classes),
            "cnn" => itemShape is [1, 28, 28] ? new MnistCnn(classes) : throw new ArgumentException($"cnn needs 1x28x28 images, got [{string.Join("x", itemShape)}]"),
            "transformer" => new VisionTransformer(model, itemShape, classes),
            _ => throw new ArgumentException($"unknown model.type '{model.Type}' (valid: {string.Join(", ", Types)})"),
        };
    }

    /// <summary>Multinomial logistic regression: one linear layer.</summary>
    public sealed class LogReg : Module<torch.Tensor, torch.Tensor>
    {
        private readonly Module<torch.Tensor, torch.Tensor> _fc;

        public LogReg(long inputs, int classes) : base("logreg")
        {
            _fc = Linear(inputs, classes);
            RegisterComponents();
        }

        public override torch.Tensor forward(torch.Tensor x) => _fc.forward(x.flatten(1));
    }

    /// <summary>784-256-10 with ReLU.</summary>
    public sealed class Mlp : Module<torch.Tensor, torch.Tensor>
    {
        private readonly Module<torch.Tensor, torch.Tensor> _fc1, _fc2;

        public Mlp(long inputs, int hidden, int classes) : base("mlp")
        {
            _fc1 = Linear(inputs, hidden);
            _fc2 = Linear(hidden, classes);
            RegisterComponents();
        }

        public override torch.Tensor forward(torch.Tensor x)
        {
            using var h = Features(x);
            return _fc2.forward(h);
        }

        /// <summary>The hidden layer's activations (a feature extractor, e.g. for Frechet distances).</summary>
        public torch.Tensor Features(torch.Tensor x) => functional.relu(_fc1.forward(x.flatten(1)));
    }

    /// <summary>The PyTorch MNIST example network: conv 32, conv 64, max-pool, dropout 0.25, fc 128, dropout 0.5, fc 10.</summary>
    public sealed class MnistCnn : Module<torch.Tensor, torch.Tensor>
    {
        private readonly Module<torch.Tensor, torch.Tensor> _conv1, _conv2, _fc1, _fc2, _drop1, _drop2;

        public MnistCnn(int classes) : base("cnn")
        {
            _conv1 = Conv2d(1, 32, 3);
            _conv2 = Conv2d(32, 64, 3);
            _drop1 = Dropout(0.25);
            _drop2 = Dropout(0.5);
            _fc1 = Linear(9216, 128);
            _fc2 = Linear(128, classes);
            RegisterComponents();
        }

        public override torch.Tensor forward(torch.Tensor x)
        {
            using var scope = torch.NewDisposeScope();
            var h = functional.relu(_conv1.forward(x));
            h = functional.relu(_conv2.forward(h));
            h = functional.max_pool2d(h, 2);
            h = _drop1.forward(h).flatten(1);
            h = functional.relu(_fc1.forward(h));
            h = _drop2.forward(h);
            return _fc2.forward(h).MoveToOuterDisposeScope();
        }
    }
}
