using QuantStudio.Web;

// libtorch's environment first: it reads some settings once, at its first use.
QuantStudio.Core.Engine.NativeEnvironment.Initialize();
var builder = WebApplication.CreateBuilder(args);
builder.AddQuantStudio();
var app = builder.Build();
app.UseQuantStudio();
app.Run();

public partial class Program;
