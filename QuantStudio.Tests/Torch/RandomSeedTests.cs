using QuantStudio.Torch;

namespace QuantStudio.Tests.Torch;

/// <summary>manual_seed seeds libtorch's one global generator, so these run apart from tests that draw.</summary>
[Collection(ProcessWideStateCollection.Name)]
public class RandomSeedTests
{
    [Fact]
    public void Manual_seed_makes_random_draws_repeatable()
    {
        torch.manual_seed(1234);
        using var a = torch.randn(16);
        torch.manual_seed(1234);
        using var b = torch.randn(16);
        torch.manual_seed(99);
        using var c = torch.randn(16);
        Assert.Equal(a.data<float>(), b.data<float>());
        Assert.NotEqual(a.data<float>(), c.data<float>());
    }
}
