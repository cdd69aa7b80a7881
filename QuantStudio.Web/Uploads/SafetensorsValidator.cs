using QuantStudio.Core.Engine;

namespace QuantStudio.Web.Uploads;

/// <summary>
/// Checks that an uploaded file is a safetensors file the trainer can load, before it is stored. The header is checked
/// by the engine's own reader (<see cref="SafetensorsHeader.Read"/>: a JSON object, a dtype the engine reads, shapes,
/// data offsets that tile the data section exactly), so an upload accepted here is one the trainer accepts. Only the
/// header is read: the tensors are not loaded, so a large upload costs no memory and no engine call.
/// </summary>
public static class SafetensorsValidator
{
    public sealed record Result(bool Ok, string? Error, int TensorCount, long DataBytes)
    {
        public static Result Fail(string error) => new(false, error, 0, 0);
    }

    public static Result Validate(Stream stream)
    {
        try
        {
            var (entries, _, dataBytes) = SafetensorsHeader.Read(stream);
            return new Result(true, null, entries.Count, dataBytes);
        }
        catch (SafetensorsFormatException ex)
        {
            return Result.Fail(ex.Message);
        }
    }
}
