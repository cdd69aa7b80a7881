using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;

namespace QuantStudio.Tests.Web;

/// <summary>
/// A bUnit context set up as the studio's circuit is: components render interactively on the server, and the JavaScript
/// they call (Plotly.Blazor's module) answers with defaults while every call is recorded.
/// </summary>
public abstract class StudioComponentContext : BunitContext
{
    protected StudioComponentContext()
    {
        Services.AddSingleton(TimeProvider.System);
        JSInterop.Mode = JSRuntimeMode.Loose;
        SetRendererInfo(new RendererInfo("Server", isInteractive: true));
    }

    /// <summary>Recorded calls into Plotly.Blazor's module whose name contains <paramref name="name"/> (newPlot, react, extendTraces).</summary>
    protected IReadOnlyList<JSRuntimeInvocation> PlotlyCalls(string name) =>
        JSInterop.Invocations.Where(i => i.Identifier.Contains(name, StringComparison.OrdinalIgnoreCase)).ToList();

    /// <summary>
    /// Polls <paramref name="condition"/> on the renderer's thread until it holds. A chart's update happens after its render,
    /// so no further render tells bUnit's own waits to look again.
    /// </summary>
    protected void Eventually(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(5));
        while (!Renderer.Dispatcher.InvokeAsync(condition).GetAwaiter().GetResult())
        {
            Assert.True(DateTime.UtcNow < deadline, $"{what}; JavaScript calls: {AllCalls}");
            Thread.Sleep(25);
        }
    }

    protected string AllCalls => string.Join(", ", JSInterop.Invocations.Select(i => i.Identifier));
}
