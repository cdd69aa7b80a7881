using QuantStudio.Torch;

namespace QuantStudio.Tests.Torch;

/// <summary>
/// Settings libtorch keeps for the whole process (the global generator, the intra-op thread count): these tests run
/// apart from the others, which draw random numbers and set the thread count.
/// </summary>
[Collection(ProcessWideStateCollection.Name)]
public class ProcessWideSettingsTests
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

    [Fact]
    public void Thread_count_can_be_set_and_read_back()
    {
        var before = torch.get_num_threads();
        torch.set_num_threads(2);
        Assert.Equal(2, torch.get_num_threads());
        torch.set_num_threads(before);
        Assert.Throws<ArgumentOutOfRangeException>(() => torch.set_num_threads(0));
    }
}
