namespace QuantStudio.Tests.Web.Browser;

/// <summary>
/// The browser tests that drive the simulated studio run one after another, not side by side: on two cores two Chromium
/// instances drawing live charts starve each other's renderers until the driver's script calls time out.
/// </summary>
[CollectionDefinition(Name)]
public sealed class BrowserCollection
{
    public const string Name = "Browser";
}
