using System.Text.Json;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.FileProviders;
using QuantStudio.Web.Api;
using QuantStudio.Web.Components;
using QuantStudio.Web.Distributed;
using QuantStudio.Web.Estimation;
using QuantStudio.Web.Hubs;
using QuantStudio.Web.Options;
using QuantStudio.Web.Runs;
using QuantStudio.Web.Security;
using QuantStudio.Web.Sweeps;

namespace QuantStudio.Web;

/// <summary>The app's services and pipeline, in one place for Program and the tests.</summary>
public static class QuantStudioWebSetup
{
    public static WebApplicationBuilder AddQuantStudio(this WebApplicationBuilder builder)
    {
        UseFilesBesideTheApp(builder);
        // The interactive script (_framework/blazor.web.js), Plotly.Blazor's files (_content/Plotly.Blazor) and the scoped
        // styles are static web assets of the build: a published app has them in wwwroot, a built one only lists them in
        // QuantStudio.Web.staticwebassets.runtime.json. ASP.NET Core reads that list in Development only; run.sh starts a
        // Release build in Production, so read it in every environment (it is absent, and this does nothing, when published).
        builder.WebHost.UseStaticWebAssets();

        var section = builder.Configuration.GetSection(QuantStudioOptions.Section);
        var options = section.Get<QuantStudioOptions>() ?? new QuantStudioOptions();

        // --urls / ASPNETCORE_URLS win over appsettings. Whatever sets the addresses, BoundAddressCheck refuses an open one
        // without a key once Kestrel has bound it.
        var urls = builder.Configuration["urls"];
        builder.WebHost.UseUrls(string.IsNullOrWhiteSpace(urls) ? options.Urls : urls);

        var services = builder.Services;
        services.Configure<QuantStudioOptions>(section);
        services.Configure<FormOptions>(f => f.MultipartBodyLengthLimit = options.MaxUploadBytes + 64 * 1024);
        services.TryAddSingletonTimeProvider();
        services.AddProblemDetails(o => o.CustomizeProblemDetails = BadRequestProblems.Describe);
        // A refused request becomes an exception the handler turns into a ProblemDetails naming the field (see BadRequestProblems).
        services.Configure<Microsoft.AspNetCore.Routing.RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        // The API speaks snake_case like the spec and the events.
        services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
            o.SerializerOptions.NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals;
        });
        services.AddOpenApi();
        services.AddRazorComponents().AddInteractiveServerComponents();
        services.AddAntiforgery();
        services.AddDataProtection().PersistKeysToFileSystem(new DirectoryInfo(Path.Combine(options.ResolvedDataDirectory, "keys")));
        services.AddSignalR(o => o.MaximumParallelInvocationsPerClient = 4)
            .AddJsonProtocol(o =>
            {
                o.PayloadSerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
                o.PayloadSerializerOptions.NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals;
            });

        services.AddSingleton<BoundAddressCheck>();
        services.AddHostedService(sp => sp.GetRequiredService<BoundAddressCheck>());
        services.AddSingleton<ApiKeyCookie>();
        services.AddSingleton<RunEventBroker>();
        services.AddSingleton<RunListNotifier>();
        services.AddSingleton<RunFollower>();
        services.AddSingleton<RunEventFrames>();
        services.AddSingleton<RunInputs>();
        services.AddSingleton<SpecChecks>();
        services.AddSingleton<QuantStudio.Web.Uploads.TeacherUploadStore>();
        if (options.Distributed.IsEnabled)
        {
            services.AddDistributedRuns(options.Distributed);
        }
        else
        {
            services.AddSingleton<IRunStore>(sp => new SqliteRunStore(sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<QuantStudioOptions>>().Value.DatabasePath));
            services.AddSingleton<RunQueue>();
            services.AddHostedService(sp => sp.GetRequiredService<RunQueue>());
            services.AddSingleton<IRunDispatcher>(sp => sp.GetRequiredService<RunQueue>());
            services.AddSingleton(sp => new RunDownloads(sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<QuantStudioOptions>>()));
        }
        services.AddSingleton<RunService>();
        services.AddQuantStudioSweeps(builder.Configuration);
        services.AddSingleton<IModelParameterCounts, ModelZooParameterCounts>();
        services.AddQuantStudioRunner(options.SimulatedRunner);
        return builder;
    }

    public static WebApplication UseQuantStudio(this WebApplication app)
    {
        app.UseMiddleware<BoundAddressCheck.Middleware>();
        app.UseMiddleware<HostNameGuard>();
        app.UseMiddleware<SameOriginGuard>();
        app.UseExceptionHandler(new ExceptionHandlerOptions { StatusCodeSelector = BadRequestProblems.StatusCodeOf });
        app.UseStatusCodePages();
        app.UseMiddleware<ApiKeyMiddleware>();
        app.UseStaticFiles();
        app.UseAntiforgery();

        app.MapGet("/healthz", () => Results.Ok(new { status = "ok" })).ExcludeFromDescription();
        app.MapOpenApi();
        app.MapRunsApi();
        app.MapSweepsApi();
        app.MapUploadsApi();
        app.MapOnnxExportApi();
        app.MapEstimateApi();
        app.MapLoginEndpoints();
        app.MapHub<RunsHub>("/hubs/runs");
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode();
        return app;
    }

    /// <summary>
    /// run.sh starts the app from the repository root, so the working directory (the default content root) holds
    /// neither appsettings.json nor wwwroot. Take appsettings.json from beside the binaries (with the lowest
    /// precedence, so environment variables and --QuantStudio:... still win) and the web root from the project folder
    /// the binaries were built from, or from beside them in a published app.
    /// </summary>
    private static void UseFilesBesideTheApp(WebApplicationBuilder builder)
    {
        var contentRoot = builder.Environment.ContentRootPath;
        var besideSettings = Path.Combine(AppContext.BaseDirectory, "appsettings.json");
        if (!File.Exists(Path.Combine(contentRoot, "appsettings.json")) && File.Exists(besideSettings))
        {
            var provider = new PhysicalFileProvider(AppContext.BaseDirectory);
            builder.Configuration.Sources.Insert(0, new Microsoft.Extensions.Configuration.Json.JsonConfigurationSource
            {
                Path = "appsettings.json", FileProvider = provider, Optional = true, ReloadOnChange = false,
            });
            builder.Configuration.Sources.Insert(1, new Microsoft.Extensions.Configuration.Json.JsonConfigurationSource
            {
                Path = $"appsettings.{builder.Environment.EnvironmentName}.json", FileProvider = provider, Optional = true, ReloadOnChange = false,
            });
        }

        if (Directory.Exists(Path.Combine(contentRoot, "wwwroot")))
            return;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "wwwroot");
            if (Directory.Exists(candidate) && (dir.FullName == Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory) ||
                                                File.Exists(Path.Combine(dir.FullName, "QuantStudio.Web.csproj"))))
            {
                builder.Environment.WebRootPath = candidate;
                builder.Environment.WebRootFileProvider = new PhysicalFileProvider(candidate);
                return;
            }
        }
    }

    private static void TryAddSingletonTimeProvider(this IServiceCollection services)
    {
        if (services.All(d => d.ServiceType != typeof(TimeProvider)))
            services.AddSingleton(TimeProvider.System);
    }
}
