using QuantStudio.Core.Experiments;
using QuantStudio.Web.Estimation;

namespace QuantStudio.Web.Api;

/// <summary>/api/estimate: the expected compressed size of a student, shown on the form before a run starts.</summary>
public static class EstimateEndpoints
{
    public static IEndpointRouteBuilder MapEstimateApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/estimate", (IModelParameterCounts counts, string arch, double? width, double? depth, string? method, int? bits, int? bucket,
            string? dataset, [Microsoft.AspNetCore.Mvc.FromQuery(Name = "quantize_first_last")] bool? quantizeFirstLast) =>
        {
            if (!ExperimentCatalog.IsKnownModel(arch))
                return Problems.BadRequest("arch", $"unknown model '{arch}'; allowed: {string.Join(", ", ExperimentCatalog.Models)}, wrn-D-K");
            if (width is { } w && w is not (> 0 and <= ModelZooParameterCounts.MaxMultiplier))
                return Problems.BadRequest("width", "must be in (0, 8]");
            if (depth is { } d && d is not (> 0 and <= ModelZooParameterCounts.MaxMultiplier))
                return Problems.BadRequest("depth", "must be in (0, 8]");
            if (dataset is not null && !ExperimentCatalog.Datasets.Contains(dataset))
                return Problems.BadRequest("dataset", $"unknown dataset '{dataset}'; allowed: {string.Join(", ", ExperimentCatalog.Datasets)}");
            var spec = new ExperimentSpec
            {
                Method = method ?? Methods.QuantizedDistillation,
                Dataset = new DatasetSpec { Name = dataset ?? "shapes" },
                Student = new StudentSpec { Arch = arch, Width = width ?? 1, Depth = depth ?? 1 },
                Quantization = new QuantizationSpec { Bits = bits ?? 4, BucketSize = bucket is > 0 ? bucket : null, QuantizeFirstLast = quantizeFirstLast ?? false },
            };
            return CompressionEstimate.For(spec, counts) is { } e
                ? Results.Ok(e)
                : Problems.BadRequest("arch", $"model '{arch}' cannot be built at width {spec.Student.Width} and depth {spec.Student.Depth}");
        }).WithTags("Runs").WithSummary("Expected parameter count, fp32 and packed size of a student for a dataset, and a warning when layers left in full precision dominate it");
        return app;
    }
}
