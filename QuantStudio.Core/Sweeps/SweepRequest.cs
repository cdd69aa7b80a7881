using System.Text.Json;
using System.Text.Json.Nodes;
using QuantStudio.Core.Experiments;

namespace QuantStudio.Core.Sweeps;

/// <summary>
/// A sweep as asked for: a base experiment spec (JSON text, as for one run), the axes that vary it and an optional name.
/// <see cref="SweepExpander"/> turns it into runs.
/// </summary>
public sealed record SweepRequest(string? Name, string SpecJson, IReadOnlyList<SweepAxis> Axes);

/// <summary>
/// The sweep document of <c>POST /api/sweeps</c>: <c>{"name": …, "spec": {…}, "axes": [{"path": …, "values": […]}]}</c>.
/// Reading checks its shape and names the member at fault; the values themselves are checked by the expander.
/// </summary>
public static class SweepRequestJson
{
    private static readonly JsonDocumentOptions DocumentOptions = new()
    {
        CommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    public static (SweepRequest? Request, IReadOnlyList<SpecError> Errors) Parse(string json)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json, DocumentOptions);
        }
        catch (JsonException e)
        {
            return (null, [new SpecError("body", "malformed JSON: " + JsonErrorText.Describe(e))]);
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                return (null, [new SpecError("body", "expected a JSON object: {\"spec\": {…}, \"axes\": [{\"path\": \"quantization.bits\", \"values\": [2, 4]}]}")]);
            var errors = new List<SpecError>();
            string? name = null;
            string? spec = null;
            var axes = new List<SweepAxis>();
            var sawAxes = false;
            foreach (var member in root.EnumerateObject())
            {
                switch (member.Name)
                {
                    case "name":
                        if (member.Value.ValueKind == JsonValueKind.String)
                            name = member.Value.GetString();
                        else if (member.Value.ValueKind != JsonValueKind.Null)
                            errors.Add(new SpecError("name", "must be a string"));
                        break;
                    case "spec":
                        if (member.Value.ValueKind == JsonValueKind.Object)
                            spec = member.Value.GetRawText();
                        else
                            errors.Add(new SpecError("spec", "must be an object: the experiment spec each run starts from"));
                        break;
                    case "axes":
                        sawAxes = true;
                        ReadAxes(member.Value, axes, errors);
                        break;
                    default:
                        errors.Add(new SpecError(member.Name, "unknown field; a sweep has name, spec and axes"));
                        break;
                }
            }
            if (spec is null && !errors.Any(e => e.Field == "spec"))
                errors.Add(new SpecError("spec", "is required: the experiment spec each run starts from"));
            if (!sawAxes)
                errors.Add(new SpecError("axes", "is required: a list of {\"path\": \"quantization.bits\", \"values\": [2, 4, 8]}"));
            return errors.Count > 0 ? (null, errors) : (new SweepRequest(name, spec!, axes), errors);
        }
    }

    /// <summary>The document for a request (what the CLI posts).</summary>
    public static string Write(SweepRequest request)
    {
        var axes = new JsonArray();
        foreach (var a in request.Axes)
            axes.Add(new JsonObject
            {
                ["path"] = a.Path,
                ["values"] = new JsonArray(a.Values.Select(v => JsonSerializer.SerializeToNode(v)).ToArray()),
            });
        var doc = new JsonObject();
        if (request.Name is not null)
            doc["name"] = request.Name;
        doc["spec"] = JsonNode.Parse(request.SpecJson, documentOptions: DocumentOptions);
        doc["axes"] = axes;
        return doc.ToJsonString();
    }

    private static void ReadAxes(JsonElement value, List<SweepAxis> axes, List<SpecError> errors)
    {
        if (value.ValueKind != JsonValueKind.Array)
        {
            errors.Add(new SpecError("axes", "must be a list of {\"path\": \"quantization.bits\", \"values\": [2, 4, 8]}"));
            return;
        }
        var i = 0;
        foreach (var axis in value.EnumerateArray())
        {
            var at = $"axes[{i++}]";
            if (axis.ValueKind != JsonValueKind.Object)
            {
                errors.Add(new SpecError(at, "must be an object: {\"path\": \"quantization.bits\", \"values\": [2, 4, 8]}"));
                continue;
            }
            string? path = null;
            List<JsonElement>? values = null;
            foreach (var m in axis.EnumerateObject())
            {
                if (m.Name == "path")
                {
                    if (m.Value.ValueKind == JsonValueKind.String)
                        path = m.Value.GetString();
                    else
                        errors.Add(new SpecError(at + ".path", "must be a string: a spec field such as quantization.bits"));
                }
                else if (m.Name == "values")
                {
                    if (m.Value.ValueKind == JsonValueKind.Array)
                        values = m.Value.EnumerateArray().Select(v => v.Clone()).ToList();
                    else
                        errors.Add(new SpecError(at + ".values", "must be a list of values, such as [2, 4, 8]"));
                }
                else
                {
                    errors.Add(new SpecError($"{at}.{m.Name}", "unknown field; an axis has path and values"));
                }
            }
            if (path is null && !errors.Any(e => e.Field == at + ".path"))
                errors.Add(new SpecError(at + ".path", "is required: a spec field such as quantization.bits"));
            if (values is null && !errors.Any(e => e.Field == at + ".values"))
                errors.Add(new SpecError(at + ".values", "is required: a list of values, such as [2, 4, 8]"));
            if (path is not null && values is not null)
                axes.Add(new SweepAxis(path, values));
        }
    }
}
