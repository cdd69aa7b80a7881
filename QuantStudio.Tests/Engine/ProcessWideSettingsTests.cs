using TorchSharp;

namespace QuantStudio.Tests.Engine;

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
        Assert.Equal(a.data<float>().ToArray(), b.data<float>().ToArray());
        Assert.NotEqual(a.data<float>().ToArray(), c.data<float>().ToArray());
    }

    [Fact]
    public void Thread_count_can_be_set_and_read_back()
    {
        var before = torch.get_num_threads();
        try
        {
            torch.set_num_threads(1);
            Assert.Equal(1, torch.get_num_threads());
            torch.set_num_threads(2);
            Assert.Equal(2, torch.get_num_threads());
        }
        finally
        {
            torch.set_num_threads(before);
        }
    }
}
