using System.Globalization;

namespace QuantStudio.Cli.CommandLine;

/// <summary>Bad command-line input: reported as one line on stderr with exit code 2.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>Bad input data (a missing or corrupt file, NaN weights): one line on stderr, exit code 1.</summary>
public sealed class InputException(string message) : Exception(message);

/// <summary>
/// A deliberately small parser: `--name value` options, `--flag` switches and positional
/// arguments. Each command declares which options take values, so a typo is an error rather
/// than silently ignored.
/// </summary>
public sealed class CommandArguments
{
    private readonly Dictionary<string, string> values = new(StringComparer.Ordinal);
    private readonly HashSet<string> flags = new(StringComparer.Ordinal);

    public IReadOnlyList<string> Positionals { get; }

    private CommandArguments(List<string> positionals) => Positionals = positionals;

    public static CommandArguments Parse(IReadOnlyList<string> args, IReadOnlyCollection<string> valueOptions, IReadOnlyCollection<string>? flagOptions = null)
    {
        var positionals = new List<string>();
        var parsed = new CommandArguments(positionals);
        for (var i = 0; i < args.Count; i++)
        {
            var a = args[i];
            if (!a.StartsWith("--", StringComparison.Ordinal) || a == "--")
            {
                positionals.Add(a);
                continue;
            }
            string name = a, inlineValue = "";
            var hasInline = false;
            var eq = a.IndexOf('=');
            if (eq > 0)
            {
                name = a[..eq];
                inlineValue = a[(eq + 1)..];
                hasInline = true;
            }
            if (flagOptions?.Contains(name) == true && !hasInline)
            {
                parsed.flags.Add(name);
                continue;
            }
            if (!valueOptions.Contains(name))
                throw new UsageException($"unknown option '{name}' (known: {string.Join(", ", valueOptions.Concat(flagOptions ?? []))})");
            if (parsed.values.ContainsKey(name))
                throw new UsageException($"option '{name}' is given twice");
            if (hasInline)
                parsed.values[name] = inlineValue;
            else if (i + 1 < args.Count)
                parsed.values[name] = args[++i];
            else
                throw new UsageException($"option '{name}' needs a value");
        }
        return parsed;
    }

    public bool Has(string name) => values.ContainsKey(name) || flags.Contains(name);

    public string? Optional(string name) => values.GetValueOrDefault(name);

    public string Required(string name) => values.TryGetValue(name, out var v) ? v : throw new UsageException($"option '{name}' is required");

    public int Int(string name, int min, int max, int? fallback = null)
    {
        var text = values.GetValueOrDefault(name);
        if (text is null)
            return fallback ?? throw new UsageException($"option '{name}' is required");
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) || v < min || v > max)
            throw new UsageException($"{name} must be an integer in {min}..{max}, got '{text}'");
        return v;
    }

    public ulong UInt64(string name, ulong fallback)
    {
        var text = values.GetValueOrDefault(name);
        if (text is null)
            return fallback;
        if (!ulong.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v))
            throw new UsageException($"{name} must be a non-negative integer, got '{text}'");
        return v;
    }

    public T Choice<T>(string name, IReadOnlyDictionary<string, T> choices, T fallback)
    {
        var text = values.GetValueOrDefault(name);
        if (text is null)
            return fallback;
        return choices.TryGetValue(text, out var v) ? v : throw new UsageException($"{name} must be one of {string.Join(", ", choices.Keys)}, got '{text}'");
    }
}
