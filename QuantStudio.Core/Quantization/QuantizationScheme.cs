namespace QuantStudio.Core.Quantization;

/// <summary>How a bucket is scaled before it is rounded to levels.</summary>
public enum QuantizationScheme
{
    /// <summary>Min–max: α = max − min, β = min, 2^bits levels on (v − β)/α.</summary>
    Uniform = 0,

    /// <summary>Sign kept apart: α = max |v|, β = 0, a sign bit and 2^(bits−1) levels on |v|/α.</summary>
    AbsMax = 1,
}

/// <summary>How a scaled value is rounded to a level.</summary>
public enum RoundingMode
{
    /// <summary>To the nearest level, ties to even (as torch.round).</summary>
    Deterministic = 0,

    /// <summary>Up with probability equal to the fractional part, down otherwise (unbiased).</summary>
    Stochastic = 1,
}
