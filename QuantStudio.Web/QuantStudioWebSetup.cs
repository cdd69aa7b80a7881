using System.Text.Json;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.FileProviders;
using QuantStudio.Web.Api;
using QuantStudio.Web.Components;
using QuantStudio.Web.Estimation;
using QuantStudio.Web.Hubs;
using QuantStudio.Web.Options;
using QuantStudio.Web.Runs;
using QuantStudio.Web.Security;

namespace QuantStudio.Web;

/// <summary>The app's services and pipeline, in one place for Program and the tests.</summary>
public static class QuantStudioWebSetup
{
    public static WebApplicationBuilder AddQuantStudio(this WebApplicationBuilder builder)
    {
        var section = builder.Configuration.GetSection(QuantStudioOptions.Section);
        var options = section.Get<QuantStudioOptions>() ?? new QuantStudioOptions();

        // --urls / ASPNETCORE_URLS win over appsettings; either way an open address needs a key.
        var urls = builder.Configuration["urls"] ?? options.Urls;
        BindAddressGuard.Check(urls, options.ApiKey);
        builder.WebHost.UseUrls(urls);

        // The web root lives next to the project in development and next to the binaries otherwise.
        if (!Directory.Exists(Path.Combine(builder.Environment.ContentRootPath, "wwwroot")))
        {
            var beside = Path.Combine(AppContext.BaseDirectory, "wwwroot");
            if (Directory.Exists(beside))
            {
                builder.Environment.WebRootPath = beside;
                builder.Environment.WebRootFileProvider = new PhysicalFileProvider(beside);
            }
        }

        var services = builder.Services;
        services.Configure<QuantStudioOptions>(section);
        services.Configure<FormOptions>(f => f.MultipartBodyLengthLimit = options.MaxUploadBytes + 64 * 1024);
        services.TryAddSingletonTimeProvider();
        services.AddProblemDetails();
        // The API speaks snake_case like the spec and the events.
        services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
            o.SerializerOptions.NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals;
        });
        services.AddOpenApi();
        services.AddRazorComponents();
        services.AddAntiforgery();
        services.AddDataProtection().PersistKeysToFileSystem(new DirectoryInfo(Path.Combine(options.ResolvedDataDirectory, "keys")));
        services.AddSignalR(o => o.MaximumParallelInvocationsPerClient = 4)
            .AddJsonProtocol(o =>
            {
                o.PayloadSerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
                o.PayloadSerializerOptions.NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals;
            });

        services.AddSingleton<ApiKeyCookie>();
        services.AddSingleton<IRunStore, SqliteRunStore>();
        services.AddSingleton<RunEventBroker>();
        services.AddSingleton<RunListNotifier>();
        services.AddSingleton<RunFollower>();
        services.AddSingleton<RunEventFrames>();
        services.AddSingleton<SpecChecks>();
        services.AddSingleton<RunQueue>();
        services.AddHostedService(sp => sp.GetRequiredService<RunQueue>());
        services.AddSingleton<RunService>();
        services.AddSingleton<IModelParameterCounts, PlaceholderParameterCounts>();
        services.AddQuantStudioRunner();
        return builder;
    }

    public static WebApplication UseQuantStudio(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseMiddleware<ApiKeyMiddleware>();
        app.UseStaticFiles();
        app.UseAntiforgery();

        app.MapGet("/healthz", () => Results.Ok(new { status = "ok" })).ExcludeFromDescription();
        app.MapOpenApi();
        app.MapRunsApi();
        app.MapUploadsApi();
        app.MapEstimateApi();
        app.MapLoginEndpoints();
        app.MapHub<RunsHub>("/hubs/runs");
        app.MapRazorComponents<App>();
        return app;
    }

    private static void TryAddSingletonTimeProvider(this IServiceCollection services)
    {
        if (services.All(d => d.ServiceType != typeof(TimeProvider)))
            services.AddSingleton(TimeProvider.System);
    }
}
