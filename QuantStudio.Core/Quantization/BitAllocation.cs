namespace QuantStudio.Core.Quantization;

/// <summary>
/// Shares a budget of quantization points across tensors by gradient norm (Polino et al. 2018):
/// each tensor first keeps half of its points; the rest of the budget goes out in proportion to
/// each tensor's gradient 2-norm, rounded by largest remainder so the total is kept exactly.
/// </summary>
public static class BitAllocation
{
    /// <param name="points">Current points per tensor (e.g. 2^bits); their sum is the budget.</param>
    /// <param name="gradientNorms">Gradient 2-norm per tensor (≥ 0).</param>
    /// <param name="maxPoints">Cap per tensor (codes are bytes: at most 256); overflow is shared among the others.</param>
    public static int[] Allocate(IReadOnlyList<int> points, IReadOnlyList<double> gradientNorms, int maxPoints = NonUniformQuantizer.MaxPoints)
    {
        if (points.Count != gradientNorms.Count)
            throw new ArgumentException($"{points.Count} point counts but {gradientNorms.Count} gradient norms", nameof(gradientNorms));
        for (var i = 0; i < points.Count; i++)
        {
            if (points[i] < 1 || points[i] > maxPoints)
                throw new ArgumentOutOfRangeException(nameof(points), points[i], $"points of tensor {i} must be in 1..{maxPoints}");
            if (!(gradientNorms[i] >= 0) || double.IsInfinity(gradientNorms[i]))
                throw new ArgumentOutOfRangeException(nameof(gradientNorms), gradientNorms[i], $"gradient norm of tensor {i} must be finite and >= 0");
        }

        var result = points.Select(p => Math.Max(1, p / 2)).ToArray();
        var remaining = points.Sum() - result.Sum();
        var open = Enumerable.Range(0, points.Count).Where(i => result[i] < maxPoints).ToList();
        // With no gradient signal the spare points go back where they came from.
        var weights = gradientNorms.Sum() > 0 ? gradientNorms.ToArray() : points.Select(p => (double)p).ToArray();

        while (remaining > 0 && open.Count > 0)
        {
            var total = open.Sum(i => weights[i]);
            var share = new double[points.Count];
            foreach (var i in open)
                share[i] = total > 0 ? remaining * weights[i] / total : (double)remaining / open.Count;
            var given = 0;
            foreach (var i in open)
            {
                var whole = (int)Math.Floor(share[i]);
                result[i] += whole;
                given += whole;
            }
            // Largest remainders get the points lost to flooring (ties to the lower index).
            foreach (var i in open.OrderByDescending(i => share[i] - Math.Floor(share[i])).ThenBy(i => i).Take(remaining - given))
            {
                result[i]++;
                given++;
            }
            // Clip at the cap and share the overflow among the tensors still below it.
            remaining = 0;
            foreach (var i in open.Where(i => result[i] > maxPoints).ToList())
            {
                remaining += result[i] - maxPoints;
                result[i] = maxPoints;
            }
            open = open.Where(i => result[i] < maxPoints).ToList();
        }
        return result;
    }
}
