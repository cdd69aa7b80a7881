using QuantStudio.Core.Engine;
using QuantStudio.Core.Models;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace QuantStudio.Tests.Models;

/// <summary>
/// Every architecture of the zoo trains in both precisions that <c>precision: auto</c> can choose:
/// a few SGD steps give finite losses and finite gradients for every parameter. (mobilenetv2 used
/// to fail in bf16 with "hardshrink_backward_cpu not implemented for BFloat16": only the weighted
/// layers compute in bf16 now, and its ReLU6 stays fp32.)
/// </summary>
public class ZooTrainingStepTests
{
    public static TheoryData<string, bool> Architectures()
    {
        var data = new TheoryData<string, bool>();
        foreach (var arch in ModelZoo.Names.Append("wrn-10-1"))
        {
            data.Add(arch, false);
            data.Add(arch, true);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Architectures))]
    public void Trains_a_few_steps_with_finite_loss_and_gradients(string arch, bool bf16)
    {
        var text = ModelZoo.IsLanguageModel(arch);
        var shape = text ? InputShape.Text(20) : new InputShape(3, 32, 32, 10);
        var generator = new Generator(17);
        using var model = ModelZoo.Create(arch, shape, width: 0.5);
        using var optimizer = torch.optim.SGD(model.parameters(), 0.01);
        model.train();
        for (var step = 0; step < 2; step++)
        {
            using var scope = torch.NewDisposeScope();
            var x = text ? torch.randint(0, 20, [4, 16], generator: generator) : torch.randn([4, 3, 32, 32], generator: generator);
            var y = text ? torch.randint(0, 20, [4 * 16], generator: generator) : torch.randint(0, 10, [4], generator: generator);
            optimizer.zero_grad();
            Tensor logits;
            using (ComputePrecision.Bf16(bf16))
                logits = model.call(x);
            var loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)).to_type(ScalarType.Float32), y);
            loss.backward();
            Assert.True(float.IsFinite(loss.item<float>()), $"{arch}, step {step}: loss {loss.item<float>()}");
            foreach (var (name, p) in model.named_parameters())
            {
                Assert.Equal(ScalarType.Float32, p.dtype);
                if (p.grad is { } g)
                    Assert.True(g.isfinite().all().item<bool>(), $"{arch}, step {step}: the gradient of {name} is not finite");
            }
            optimizer.step();
        }
    }
}
