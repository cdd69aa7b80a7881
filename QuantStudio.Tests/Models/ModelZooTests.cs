using QuantStudio.Core.Models;
using QuantStudio.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace QuantStudio.Tests.Models;

public class ModelZooTests
{
    private static readonly InputShape Mnist = InputShape.Image(1, 28, 28, 10);
    private static readonly InputShape Cifar = InputShape.Image(3, 32, 32, 10);

    [Fact]
    public void LeNet5_has_the_classic_parameter_and_flop_counts()
    {
        using var model = ModelZoo.Create("lenet5", Mnist);
        // conv1 1·6·25+6, conv2 6·16·25+16, fc 400·120+120, 120·84+84, 84·10+10
        Assert.Equal(156 + 2416 + 48120 + 10164 + 850, model.NumParameters());
        var stats = ModelStats.Measure(model, Mnist);
        // 2·(6·28·28·25 + 16·10·10·150 + 400·120 + 120·84 + 84·10)
        Assert.Equal(2L * (6 * 28 * 28 * 25 + 16 * 10 * 10 * 150 + 400 * 120 + 120 * 84 + 84 * 10), stats.Flops);
    }

    [Fact]
    public void Mlp_parameters_match_the_layer_formula()
    {
        using var model = ModelZoo.Create("mlp", Mnist);
        Assert.Equal(784 * 256 + 256 + 256 * 256 + 256 + 256 * 10 + 10, model.NumParameters());
        using var deeper = ModelZoo.Create("mlp", Mnist, depth: 2);
        Assert.Equal(784 * 256 + 256 + 3 * (256 * 256 + 256) + 256 * 10 + 10, deeper.NumParameters());
    }

    [Fact]
    public void Paper_student_1_has_convs_75_50_50_25_and_fc_500()
    {
        using var model = ModelZoo.Create("cifar-student-1", Cifar);
        long convs = 3 * 75 * 25 + 75 * 50 * 25 + 50 * 50 * 25 + 50 * 25 * 25;
        long bns = 2 * (75 + 50 + 50 + 25);
        long fcs = 25 * 8 * 8 * 500 + 500 + 500 * 10 + 10; // two pools: 32 → 8
        Assert.Equal(convs + bns + fcs, model.NumParameters());
    }

    [Fact]
    public void Paper_teacher_has_eight_3x3_convs_and_fc_1200_1200()
    {
        using var model = ModelZoo.Create("cifar-teacher", Cifar);
        long[] f = [76, 76, 126, 126, 148, 148, 148, 148];
        long convs = 3 * f[0] * 9, bns = 2 * f.Sum();
        for (var i = 1; i < f.Length; i++)
            convs += f[i - 1] * f[i] * 9;
        long fcs = 148 * 4 * 4 * 1200 + 1200 + 1200 * 1200 + 1200 + 1200 * 10 + 10; // three pools: 32 → 4
        Assert.Equal(convs + bns + fcs, model.NumParameters());
    }

    [Fact]
    public void ResNet20_with_option_A_shortcuts_matches_the_hand_count()
    {
        using var model = ModelZoo.Create("resnet20", Cifar);
        long stem = 3 * 16 * 9 + 32;
        long stage1 = 3 * (2 * 16 * 16 * 9 + 2 * 32);
        long stage2 = (16 * 32 * 9 + 32 * 32 * 9 + 2 * 64) + 2 * (2 * 32 * 32 * 9 + 2 * 64);
        long stage3 = (32 * 64 * 9 + 64 * 64 * 9 + 2 * 128) + 2 * (2 * 64 * 64 * 9 + 2 * 128);
        Assert.Equal(stem + stage1 + stage2 + stage3 + 64 * 10 + 10, model.NumParameters());
        using var r56 = ModelZoo.Create("resnet56", Cifar);
        Assert.True(r56.NumParameters() > 3 * model.NumParameters());
    }

    [Theory]
    [InlineData("mlp")]
    [InlineData("lenet5")]
    [InlineData("lenet5-small")]
    [InlineData("cifar-student-2")]
    [InlineData("cifar-student-3")]
    [InlineData("resnet20")]
    [InlineData("wrn-10-2")]
    [InlineData("mobilenetv2")]
    public void Image_models_map_a_batch_to_class_logits_and_backpropagate(string arch)
    {
        using var scope = torch.NewDisposeScope();
        using var model = ModelZoo.Create(arch, Cifar, width: arch == "mobilenetv2" ? 0.25 : 1.0);
        var x = torch.randn(2, 3, 32, 32);
        var y = model.call(x);
        Assert.Equal([2L, 10L], y.shape);
        var loss = torch.nn.functional.cross_entropy(y, torch.tensor(new long[] { 1, 7 }));
        loss.backward();
        Assert.All(model.parameters(), p => Assert.NotNull(p.grad));
    }

    [Fact]
    public void Char_lstm_emits_logits_per_position_and_counts_flops_per_character()
    {
        using var scope = torch.NewDisposeScope();
        var text = InputShape.Text(40);
        using var model = ModelZoo.Create("char-lstm", text, width: 0.25);
        var y = model.call(torch.randint(0, 40, [3, 7]));
        Assert.Equal([3L, 7L, 40L], y.shape);
        var stats = ModelStats.Measure(model, text);
        // embedding 16, hidden 64, 2 layers: LSTM 2·4·64·((16+64)+(64+64)), decoder 2·64·40
        Assert.Equal(2L * 4 * 64 * (16 + 64 + 64 + 64) + 2L * 64 * 40, stats.Flops);
    }

    [Fact]
    public void Width_multiplier_shrinks_and_bad_names_are_refused()
    {
        using var full = ModelZoo.Create("cifar-student-1", Cifar);
        using var half = ModelZoo.Create("cifar-student-1", Cifar, width: 0.5);
        Assert.True(half.NumParameters() < full.NumParameters() / 2);
        var ex = Assert.Throws<ArgumentException>(() => ModelZoo.Create("vgg99", Cifar));
        Assert.Contains("vgg99", ex.Message);
        Assert.Throws<ArgumentException>(() => ModelZoo.Create("char-lstm", Cifar));
        Assert.Throws<ArgumentException>(() => ModelZoo.Create("wrn-11-2", Cifar));
        Assert.True(ModelZoo.IsKnown("wrn-28-10"));
    }
}
