using QuantStudio.Torch;
using F = QuantStudio.Torch.torch.nn.functional;

namespace QuantStudio.Tests.Torch;

/// <summary>
/// End-to-end learning through the functional API with raw parameter tensors and a hand-written
/// SGD step. Data and initial weights come from .NET's seeded generator, so each run is the same.
/// </summary>
public class LearningTests
{
    private sealed class Init(int seed)
    {
        private readonly Random rng = new(seed);

        /// <summary>Uniform ±1/√fan_in, PyTorch's default for linear and conv layers.</summary>
        public Tensor Param(long fanIn, params long[] shape)
        {
            var n = shape.Aggregate(1L, (a, b) => a * b);
            var bound = 1 / Math.Sqrt(fanIn);
            var v = new float[n];
            for (var i = 0; i < n; i++)
                v[i] = (float)((rng.NextDouble() * 2 - 1) * bound);
            return torch.tensor(v, shape, requires_grad: true);
        }

        public double Normal()
        {
            var u = 1 - rng.NextDouble();
            return Math.Sqrt(-2 * Math.Log(u)) * Math.Cos(2 * Math.PI * rng.NextDouble());
        }

        public int Next(int max) => rng.Next(max);
    }

    /// <summary>b ← μb + g; p ← p − lr·b, then clear the gradient.</summary>
    private static void SgdStep(IReadOnlyList<Tensor> parameters, Tensor[] buffers, double lr, double momentum)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        for (var i = 0; i < parameters.Count; i++)
        {
            buffers[i].mul_(momentum).add_(parameters[i].grad!);
            parameters[i].add_(buffers[i], -lr);
            parameters[i].zero_grad();
        }
    }

    private static Tensor[] MomentumBuffers(IEnumerable<Tensor> parameters) =>
        parameters.Select(p => torch.zeros(p.shape)).ToArray();

    private static double Accuracy(Tensor logits, Tensor labels)
    {
        using var scope = torch.NewDisposeScope();
        return logits.argmax(1).eq(labels).to_type(ScalarType.Float32).mean().item<double>();
    }

    [Fact]
    public void Two_layer_mlp_learns_concentric_rings()
    {
        using var scope = torch.NewDisposeScope();
        var init = new Init(1);
        // Three classes by radius: not linearly separable, so the hidden layer has to work.
        const int n = 600;
        var points = new float[n * 2];
        var labels = new long[n];
        for (var i = 0; i < n; i++)
        {
            var c = i % 3;
            var r = 0.5 + c + 0.3 * (init.Normal() * 0.5);
            var a = 2 * Math.PI * (init.Next(10_000) / 10_000.0);
            points[2 * i] = (float)(r * Math.Cos(a));
            points[2 * i + 1] = (float)(r * Math.Sin(a));
            labels[i] = c;
        }
        var x = torch.tensor(points, [n, 2]);
        var y = torch.tensor(labels);

        Tensor[] p = [init.Param(2, 64, 2), init.Param(2, 64), init.Param(64, 3, 64), init.Param(64, 3)];
        var buffers = MomentumBuffers(p);
        Tensor Forward() => F.linear(F.relu(F.linear(x, p[0], p[1])), p[2], p[3]);

        double initialLoss;
        using (torch.NewDisposeScope())
            initialLoss = F.cross_entropy(Forward(), y).item<double>();
        for (var step = 0; step < 200; step++)
        {
            using var stepScope = torch.NewDisposeScope();
            F.cross_entropy(Forward(), y).backward();
            SgdStep(p, buffers, lr: 0.1, momentum: 0.9);
        }

        using var noGrad = torch.no_grad();
        var logits = Forward();
        var accuracy = Accuracy(logits, y);
        Assert.True(accuracy > 0.95, $"train accuracy {accuracy:P1}");
        Assert.True(F.cross_entropy(logits, y).item<double>() < 0.25 * initialLoss);
    }

    [Fact]
    public void Small_cnn_learns_bar_orientation_at_random_positions()
    {
        using var scope = torch.NewDisposeScope();
        var init = new Init(2);
        // 12x12 images holding one bar (horizontal, vertical, diagonal or anti-diagonal) of length 5
        // at a random position, on Gaussian noise. The class is the orientation.
        const int n = 256, size = 12, classes = 4;
        var images = new float[n * size * size];
        var labels = new long[n];
        (int dy, int dx)[] directions = [(0, 1), (1, 0), (1, 1), (1, -1)];
        for (var i = 0; i < n; i++)
        {
            var c = i % classes;
            labels[i] = c;
            var img = i * size * size;
            for (var k = 0; k < size * size; k++)
                images[img + k] = (float)(0.3 * init.Normal());
            var (dy, dx) = directions[c];
            var y0 = init.Next(size - 4 * dy);
            var x0 = dx >= 0 ? init.Next(size - 4 * dx) : 4 + init.Next(size - 4);
            for (var k = 0; k < 5; k++)
                images[img + (y0 + k * dy) * size + x0 + k * dx] += 1.5f;
        }
        var x = torch.tensor(images, [n, 1, size, size]);
        var y = torch.tensor(labels);

        var conv1 = init.Param(9, 8, 1, 3, 3);
        var conv1b = init.Param(9, 8);
        var bnWeight = torch.ones([8], requires_grad: true);
        var bnBias = torch.zeros([8], requires_grad: true);
        var runningMean = torch.zeros(8);
        var runningVar = torch.ones(8);
        var conv2 = init.Param(72, 16, 8, 3, 3);
        var conv2b = init.Param(72, 16);
        var fc = init.Param(16, classes, 16);
        var fcb = init.Param(16, classes);
        Tensor[] p = [conv1, conv1b, bnWeight, bnBias, conv2, conv2b, fc, fcb];
        var buffers = MomentumBuffers(p);

        Tensor Forward(bool training)
        {
            var h = F.conv2d(x, conv1, conv1b, padding: 1);
            h = F.max_pool2d(F.relu(F.batch_norm(h, runningMean, runningVar, bnWeight, bnBias, training)), 2);
            h = F.relu(F.conv2d(h, conv2, conv2b, padding: 1));
            // Global average pooling makes the classifier indifferent to where the bar is.
            h = F.adaptive_avg_pool2d(h, 1).flatten(1);
            return F.linear(h, fc, fcb);
        }

        for (var step = 0; step < 150; step++)
        {
            using var stepScope = torch.NewDisposeScope();
            F.cross_entropy(Forward(training: true), y).backward();
            SgdStep(p, buffers, lr: 0.05, momentum: 0.9);
        }

        // Judged in eval mode: the running statistics gathered in training must be usable.
        using var noGrad = torch.no_grad();
        var accuracy = Accuracy(Forward(training: false), y);
        Assert.True(accuracy > 0.95, $"train accuracy {accuracy:P1}");
    }
}
