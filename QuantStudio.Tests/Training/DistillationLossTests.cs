using QuantStudio.Core.Training;
using QuantStudio.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace QuantStudio.Tests.Training;

[Collection(TrainingCollection.Name)]
public sealed class DistillationLossTests
{
    private static double[] Softmax(double[] z, double t)
    {
        var e = z.Select(v => Math.Exp(v / t)).ToArray();
        var sum = e.Sum();
        return e.Select(v => v / sum).ToArray();
    }

    [Fact]
    public void Distillation_loss_matches_a_hand_computation()
    {
        double[][] s = [[1.0, -0.5, 2.0], [0.3, 0.1, -1.2]];
        double[][] t = [[2.5, 0.0, 1.0], [-0.4, 1.5, 0.2]];
        long[] y = [2, 0];
        const double T = 2.0, alpha = 0.7;

        // KL(p_t || p_s) = Σ p_t (log p_t − log p_s), averaged over the 2 examples; CE at T = 1.
        double kl = 0, ce = 0;
        for (var i = 0; i < 2; i++)
        {
            var pt = Softmax(t[i], T);
            var ps = Softmax(s[i], T);
            kl += Enumerable.Range(0, 3).Sum(j => pt[j] * (Math.Log(pt[j]) - Math.Log(ps[j])));
            ce += -Math.Log(Softmax(s[i], 1)[y[i]]);
        }
        var expected = alpha * T * T * kl / 2 + (1 - alpha) * ce / 2;

        using var scope = torch.NewDisposeScope();
        var st = torch.tensor(s.SelectMany(r => r.Select(v => (float)v)).ToArray(), [2, 3]);
        var tt = torch.tensor(t.SelectMany(r => r.Select(v => (float)v)).ToArray(), [2, 3]);
        var yt = torch.tensor(y);
        var (total, soft, hard) = Losses.Distillation(st, tt, yt, T, alpha);
        Assert.Equal(expected, total.item<float>(), 5);
        Assert.Equal(T * T * kl / 2, soft.item<float>(), 5);
        Assert.Equal(ce / 2, hard.item<float>(), 5);
    }

    [Fact]
    public void Sequence_logits_count_every_position_as_an_example()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(5);
        var s = torch.randn(2, 4, 6);
        var t = torch.randn(2, 4, 6);
        var y = torch.randint(0, 6, [2, 4]);
        var (total, _, _) = Losses.Distillation(s, t, y, 2.0, 0.5);
        var (flat, _, _) = Losses.Distillation(s.reshape(8, 6), t.reshape(8, 6), y.reshape(8), 2.0, 0.5);
        Assert.Equal(flat.item<float>(), total.item<float>(), 6);
    }
}
