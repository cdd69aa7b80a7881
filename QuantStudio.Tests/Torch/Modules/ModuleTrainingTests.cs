using QuantStudio.Torch;
using QuantStudio.Torch.Modules;
using QuantStudio.Torch.Optim;
using F = QuantStudio.Torch.torch.nn.functional;

namespace QuantStudio.Tests.Torch;

/// <summary>Module-based end-to-end training on generated classification tasks, each in a few seconds.</summary>
public class ModuleTrainingTests
{
    /// <summary>
    /// XOR of the coordinate signs, with points kept 0.2 away from the axes: not linearly separable,
    /// so only a network with a hidden layer can exceed chance by much.
    /// </summary>
    private static (Tensor x, Tensor y) XorPoints(int count, int seed)
    {
        var random = new Random(seed);
        var x = new float[count * 2];
        var y = new long[count];
        for (var i = 0; i < count; i++)
        {
            var a = (float)(Math.Sign(random.NextDouble() - 0.5) * (0.2 + random.NextDouble()));
            var b = (float)(Math.Sign(random.NextDouble() - 0.5) * (0.2 + random.NextDouble()));
            x[2 * i] = a;
            x[2 * i + 1] = b;
            y[i] = a * b > 0 ? 1 : 0;
        }
        return (torch.tensor(x, [count, 2]), torch.tensor(y));
    }

    /// <summary>
    /// 12×12 images with noise and one bright stroke at a random place: a horizontal bar (class 0), a
    /// vertical bar (1) or a diagonal (2), each 5 pixels long.
    /// </summary>
    private static (Tensor x, Tensor y) StrokeImages(int count, int seed)
    {
        const int size = 12, length = 5;
        var random = new Random(seed);
        var pixels = new float[count * size * size];
        var labels = new long[count];
        for (var n = 0; n < count; n++)
        {
            var image = pixels.AsSpan(n * size * size, size * size);
            for (var i = 0; i < image.Length; i++)
                image[i] = (float)(random.NextDouble() * 0.4);
            var label = random.Next(3);
            labels[n] = label;
            var row = random.Next(size - length);
            var col = random.Next(size - length);
            for (var k = 0; k < length; k++)
            {
                var (r, c) = label switch { 0 => (row, col + k), 1 => (row + k, col), _ => (row + k, col + k) };
                image[r * size + c] = 1f;
            }
        }
        return (torch.tensor(pixels, [count, 1, size, size]), torch.tensor(labels));
    }

    private static double Accuracy(Module<Tensor, Tensor> model, Tensor x, Tensor y)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        model.eval();
        var correct = model.call(x).argmax(1).eq(y).sum().item<long>();
        model.train();
        return (double)correct / y.size(0);
    }

    private static void Train(Module<Tensor, Tensor> model, Optimizer optimizer, LRScheduler? scheduler, Tensor x, Tensor y, int epochs, int batch)
    {
        var count = y.size(0);
        for (var epoch = 0; epoch < epochs; epoch++)
        {
            using var epochScope = torch.NewDisposeScope();
            var order = torch.randperm(count);
            for (long start = 0; start < count; start += batch)
            {
                using var stepScope = torch.NewDisposeScope();
                var index = order.narrow(0, start, Math.Min(batch, count - start));
                optimizer.zero_grad();
                var loss = F.cross_entropy(model.call(x.index_select(0, index)), y.index_select(0, index));
                loss.backward();
                optimizer.step();
            }
            scheduler?.step();
        }
    }

    [Fact]
    public void Two_layer_mlp_learns_xor_above_95_percent()
    {
        using var scope = torch.NewDisposeScope();
        var (x, y) = XorPoints(512, seed: 7);
        using var model = torch.nn.Sequential(torch.nn.Linear(2, 32), torch.nn.ReLU(), torch.nn.Linear(32, 2));
        Assert.InRange(Accuracy(model, x, y), 0.0, 0.9);
        using var optimizer = torch.optim.Adam(model.parameters(), lr: 0.02);
        var scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max: 40);
        Train(model, optimizer, scheduler, x, y, epochs: 40, batch: 64);
        Assert.True(Accuracy(model, x, y) > 0.95, $"train accuracy {Accuracy(model, x, y):P1}");
    }

    [Fact]
    public void Small_cnn_with_batch_norm_learns_stroke_orientation_above_95_percent()
    {
        using var scope = torch.NewDisposeScope();
        var (x, y) = StrokeImages(384, seed: 11);
        using var model = torch.nn.Sequential(
            torch.nn.Conv2d(1, 8, 3, padding: 1),
            torch.nn.BatchNorm2d(8),
            torch.nn.ReLU(),
            torch.nn.MaxPool2d(2),
            torch.nn.Flatten(),
            torch.nn.Linear(8 * 6 * 6, 3));
        using var optimizer = torch.optim.SGD(model.parameters(), lr: 0.05, momentum: 0.9, weight_decay: 1e-4);
        var scheduler = torch.optim.lr_scheduler.LinearWarmup(optimizer, warmup_steps: 2);
        Train(model, optimizer, scheduler, x, y, epochs: 12, batch: 32);
        Assert.True(Accuracy(model, x, y) > 0.95, $"train accuracy {Accuracy(model, x, y):P1}");
    }
}
