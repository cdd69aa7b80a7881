using QuantStudio.Core.Experiments;
using QuantStudio.Web.Estimation;

namespace QuantStudio.Web.Api;

/// <summary>/api/estimate: the expected compressed size of a student, shown on the form before a run starts.</summary>
public static class EstimateEndpoints
{
    public static IEndpointRouteBuilder MapEstimateApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/estimate", (IModelParameterCounts counts, string arch, double? width, double? depth, string? method, int? bits, int? bucket) =>
        {
            var spec = new ExperimentSpec
            {
                Method = method ?? Methods.QuantizedDistillation,
                Student = new StudentSpec { Arch = arch, Width = width ?? 1, Depth = depth ?? 1 },
                Quantization = new QuantizationSpec { Bits = bits ?? 4, BucketSize = bucket is > 0 ? bucket : null },
            };
            return CompressionEstimate.For(spec, counts) is { } e
                ? Results.Ok(e)
                : Problems.BadRequest("arch", $"unknown model '{arch}'; allowed: {string.Join(", ", ExperimentCatalog.Models)}");
        }).WithTags("Runs").WithSummary("Expected parameter count, fp32 and packed size of a student");
        return app;
    }
}
