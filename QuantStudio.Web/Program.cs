using QuantStudio.Web;

var builder = WebApplication.CreateBuilder(args);
builder.AddQuantStudio();
var app = builder.Build();
app.UseQuantStudio();
app.Run();

public partial class Program;
