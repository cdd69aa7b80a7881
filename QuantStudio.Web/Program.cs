var builder = WebApplication.CreateBuilder(args);
var app = builder.Build();

app.UseStaticFiles();
app.MapGet("/healthz", () => Results.Ok(new { status = "ok" }));
app.MapGet("/", () => Results.Content("<!doctype html><title>QuantStudio</title><h1>QuantStudio</h1>", "text/html"));

app.Run();

public partial class Program;
