namespace QuantStudio.Core.Quantization.Reference;

/// <summary>
/// A plain managed LSQ (Esser et al. 2020) in float64, against which the fused native forward
/// and backward are tested.
/// </summary>
public static class ReferenceLsq
{
    public static double[] Forward(ReadOnlySpan<double> v, double step, double qn, double qp)
    {
        var output = new double[v.Length];
        for (var i = 0; i < v.Length; i++)
            output[i] = Math.Round(Math.Clamp(v[i] / step, -qn, qp), MidpointRounding.ToEven) * step;
        return output;
    }

    /// <summary>
    /// Gradients of Σ gradOutput·v̂: straight-through for v strictly inside (−Qn, Qp); for the
    /// step, −v/s + round(v/s) inside, −Qn at or below the range, Qp at or above it, times g.
    /// </summary>
    public static (double[] GradInput, double GradStep) Backward(ReadOnlySpan<double> v, double step, ReadOnlySpan<double> gradOutput, double qn, double qp, double gradScale)
    {
        var gradInput = new double[v.Length];
        double gradStep = 0;
        for (var i = 0; i < v.Length; i++)
        {
            var x = v[i] / step;
            if (x <= -qn)
            {
                gradStep += gradOutput[i] * -qn;
            }
            else if (x >= qp)
            {
                gradStep += gradOutput[i] * qp;
            }
            else
            {
                gradInput[i] = gradOutput[i];
                gradStep += gradOutput[i] * (Math.Round(x, MidpointRounding.ToEven) - x);
            }
        }
        return (gradInput, gradStep * gradScale);
    }
}
