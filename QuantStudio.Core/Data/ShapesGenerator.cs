namespace QuantStudio.Core.Data;

/// <summary>
/// The built-in procedural image set: 10 shape classes on 3×32×32 images. Everything that is not the
/// class is random nuisance — position, scale, rotation, stretch, colours, stripes, a background
/// gradient, small clutter shapes, an occluding bar and pixel noise — so a small CNN must learn the
/// outline and cannot reach 100% at once (several classes are close: disk/hexagon, square/frame, ring/crescent).
/// Example i depends only on (seed, split, i): generation runs in parallel and is reproducible.
/// </summary>
public static class ShapesGenerator
{
    public const int Channels = 3;
    public const int Size = 32;
    public const int Classes = 10;
    public const int ImageBytes = Channels * Size * Size;

    public static readonly IReadOnlyList<string> ClassNames =
        ["disk", "ring", "square", "frame", "triangle", "plus", "star", "hexagon", "ellipse", "crescent"];

    /// <summary>Generates <paramref name="count"/> images; labels cycle 0..9 so classes are balanced exactly.</summary>
    public static ImageSet Generate(int count, long seed, bool testSplit)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var pixels = new byte[(long)count * ImageBytes];
        var labels = new int[count];
        var stream = testSplit ? RandomStreams.ShapesTest : RandomStreams.ShapesTrain;
        Parallel.For(0, count, () => new float[ImageBytes], (i, _, canvas) =>
        {
            var label = i % Classes;
            labels[i] = label;
            Render(label, DeterministicRandom.For(seed, stream, i), canvas);
            ToBytes(canvas, pixels.AsSpan(i * ImageBytes, ImageBytes));
            return canvas;
        }, _ => { });
        return new ImageSet(pixels, labels, Channels, Size, Size);
    }

    /// <summary>Draws one example of class <paramref name="label"/> into a 3×32×32 float canvas (values in [0, 1] before noise).</summary>
    internal static void Render(int label, DeterministicRandom random, Span<float> canvas)
    {
        const int plane = Size * Size;
        Span<float> background = stackalloc float[3];
        Span<float> foreground = stackalloc float[3];
        RandomColour(random, background);
        PickContrastingColour(random, background, foreground);

        // Background: a linear gradient in a random direction.
        var gx = (float)random.Uniform(-0.25, 0.25) / Size;
        var gy = (float)random.Uniform(-0.25, 0.25) / Size;
        for (var y = 0; y < Size; y++)
            for (var x = 0; x < Size; x++)
            {
                var shade = gx * (x - Size / 2f) + gy * (y - Size / 2f);
                for (var c = 0; c < 3; c++)
                    canvas[c * plane + y * Size + x] = background[c] + shade;
            }

        // Clutter: small shapes of any class and thin lines, drawn before the main shape.
        var clutter = random.NextBool(0.3) ? 1 : 0;
        Span<float> colour = stackalloc float[3];
        for (var k = 0; k < clutter; k++)
        {
            RandomColour(random, colour);
            if (random.NextBool(0.5))
            {
                var shape = new Placement(random.NextInt(Classes), (float)random.Uniform(0, Size), (float)random.Uniform(0, Size),
                    (float)random.Uniform(1.5, 2.5f), (float)random.Uniform(0, 2 * Math.PI), 1f, 1f);
                Paint(canvas, shape, colour, 0.9f, stripes: null);
            }
            else
            {
                var angle = (float)random.Uniform(0, Math.PI);
                var bar = new Placement(-1, (float)random.Uniform(0, Size), (float)random.Uniform(0, Size),
                    (float)random.Uniform(4, 12), angle, 1f, (float)random.Uniform(0.05, 0.12));
                Paint(canvas, bar, colour, 0.6f, stripes: null);
            }
        }

        // The main shape.
        var radius = (float)random.Uniform(11, 14);
        var margin = radius * 0.9f;
        var main = new Placement(label,
            (float)random.Uniform(margin, Size - margin), (float)random.Uniform(margin, Size - margin),
            radius, (float)random.Uniform(0, 2 * Math.PI),
            (float)random.Uniform(0.92, 1.08), (float)random.Uniform(0.92, 1.08));
        Stripes? stripes = random.NextBool(0.1)
            ? new Stripes((float)random.Uniform(2, 5), (float)random.Uniform(0, Math.PI), (float)random.Uniform(0.1, 0.25))
            : null;
        Paint(canvas, main, foreground, (float)random.Uniform(0.8, 1.0), stripes);

        // Sometimes an occluding bar across the shape, in a background-like colour.
        if (random.NextBool(0.03))
        {
            for (var c = 0; c < 3; c++)
                colour[c] = Math.Clamp(background[c] + (float)random.Uniform(-0.1, 0.1), 0f, 1f);
            var bar = new Placement(-1, main.X + (float)random.Uniform(-radius, radius) * 0.5f, main.Y + (float)random.Uniform(-radius, radius) * 0.5f,
                radius * 1.3f, (float)random.Uniform(0, Math.PI), 1f, (float)random.Uniform(0.08, 0.16));
            Paint(canvas, bar, colour, 1f, stripes: null);
        }

        // Pixel noise, stronger on some images than others.
        // Irwin–Hall: four 16-bit uniforms from one draw, summed, are close enough to Gaussian for noise
        // and several times cheaper than Box–Muller over 3,072 values per image.
        var sigma = (float)random.Uniform(0.01, 0.03);
        var scale = sigma * MathF.Sqrt(3f) / 65536f;
        for (var i = 0; i < canvas.Length; i++)
        {
            var bits = random.NextUInt64();
            var sum = (int)(bits & 0xFFFF) + (int)((bits >> 16) & 0xFFFF) + (int)((bits >> 32) & 0xFFFF) + (int)(bits >> 48);
            canvas[i] += scale * (sum - 2 * 65536);
        }
    }

    private readonly record struct Placement(int Kind, float X, float Y, float Radius, float Angle, float StretchU, float StretchV);

    private readonly record struct Stripes(float Period, float Angle, float Depth);

    /// <summary>Alpha-blends a shape with 2×2 supersampled coverage (soft edges, like a camera's).</summary>
    private static void Paint(Span<float> canvas, Placement p, ReadOnlySpan<float> colour, float opacity, Stripes? stripes)
    {
        const int plane = Size * Size;
        var cos = MathF.Cos(p.Angle);
        var sin = MathF.Sin(p.Angle);
        var reach = p.Radius * MathF.Max(p.StretchU, p.StretchV) * (p.Kind < 0 ? 1.05f : 1.2f) + 1;
        var x0 = Math.Max(0, (int)MathF.Floor(p.X - reach));
        var x1 = Math.Min(Size - 1, (int)MathF.Ceiling(p.X + reach));
        var y0 = Math.Max(0, (int)MathF.Floor(p.Y - reach));
        var y1 = Math.Min(Size - 1, (int)MathF.Ceiling(p.Y + reach));
        var scaleU = 1f / (p.Radius * p.StretchU);
        var scaleV = 1f / (p.Radius * (p.Kind < 0 ? 1f : p.StretchV));
        for (var y = y0; y <= y1; y++)
            for (var x = x0; x <= x1; x++)
            {
                var covered = 0;
                for (var s = 0; s < 4; s++)
                {
                    var px = x + 0.25f + 0.5f * (s & 1) - p.X;
                    var py = y + 0.25f + 0.5f * (s >> 1) - p.Y;
                    var u = (cos * px + sin * py) * scaleU;
                    var v = (-sin * px + cos * py) * scaleV;
                    if (p.Kind < 0 ? MathF.Abs(u) <= 1 && MathF.Abs(v) <= p.StretchV : Inside(p.Kind, u, v))
                        covered++;
                }
                if (covered == 0)
                    continue;
                var alpha = opacity * covered / 4f;
                var shade = 1f;
                if (stripes is { } st)
                {
                    var along = x * MathF.Cos(st.Angle) + y * MathF.Sin(st.Angle);
                    shade = 1f - st.Depth * (0.5f + 0.5f * MathF.Sin(2 * MathF.PI * along / st.Period));
                }
                var at = y * Size + x;
                for (var c = 0; c < 3; c++)
                    canvas[c * plane + at] += alpha * (colour[c] * shade - canvas[c * plane + at]);
            }
    }

    /// <summary>Whether (u, v), in the shape's own frame with radius 1, lies inside a shape of class <paramref name="kind"/>.</summary>
    internal static bool Inside(int kind, float u, float v)
    {
        var r2 = u * u + v * v;
        switch (kind)
        {
            case 0: return r2 <= 0.85f * 0.85f;                                        // disk
            case 1: return r2 <= 1f && r2 >= 0.55f * 0.55f;                             // ring
            case 2: return MathF.Max(MathF.Abs(u), MathF.Abs(v)) <= 0.78f;             // square
            case 3:                                                                      // frame (hollow square)
                var m = MathF.Max(MathF.Abs(u), MathF.Abs(v));
                return m <= 0.8f && m >= 0.48f;
            case 4: return InsideConvex(u, v, TriangleEdges, 0.5f);                     // triangle (circumradius 1)
            case 5:                                                                      // plus
                var au = MathF.Abs(u);
                var av = MathF.Abs(v);
                return (au <= 0.28f && av <= 0.95f) || (av <= 0.28f && au <= 0.95f);
            case 6: return Star(u, v, 5, 1f, 0.42f);                                    // star
            case 7: return InsideConvex(u, v, HexagonEdges, 0.92f * 0.8660254f);        // hexagon (circumradius 0.92)
            case 8: return u * u + v * v * 4.5f <= 1f;                                  // ellipse
            case 9:                                                                      // crescent
                var du = u - 0.45f;
                return r2 <= 0.9f * 0.9f && du * du + v * v > 0.75f * 0.75f;
            default: throw new ArgumentOutOfRangeException(nameof(kind), kind, "shape classes are 0 to 9");
        }
    }

    // Outward edge normals of regular polygons with a vertex at angle 0: half-plane tests need no trigonometry per pixel.
    private static readonly (float X, float Y)[] TriangleEdges = EdgeNormals(3);
    private static readonly (float X, float Y)[] HexagonEdges = EdgeNormals(6);

    private static (float, float)[] EdgeNormals(int sides) =>
        Enumerable.Range(0, sides).Select(k => (MathF.Cos((2 * k + 1) * MathF.PI / sides), MathF.Sin((2 * k + 1) * MathF.PI / sides))).ToArray();

    private static bool InsideConvex(float u, float v, (float X, float Y)[] normals, float apothem)
    {
        foreach (var (nx, ny) in normals)
            if (u * nx + v * ny > apothem)
                return false;
        return true;
    }

    private static bool Star(float u, float v, int points, float outer, float inner)
    {
        var sector = 2 * MathF.PI / points;
        var a = MathF.Atan2(v, u);
        var folded = a - sector * MathF.Floor(a / sector);
        if (folded > sector / 2)
            folded = sector - folded;
        var r = MathF.Sqrt(u * u + v * v);
        var px = r * MathF.Cos(folded);
        var py = r * MathF.Sin(folded);
        // Edge from the tip (outer, 0) to the valley (inner at half a sector); the origin is inside.
        var vx = inner * MathF.Cos(sector / 2) - outer;
        var vy = inner * MathF.Sin(sector / 2);
        var side = vx * (py - 0) - vy * (px - outer);
        var originSide = vx * (0 - 0) - vy * (0 - outer);
        return side * originSide >= 0;
    }

    private static void RandomColour(DeterministicRandom random, Span<float> colour)
    {
        for (var c = 0; c < 3; c++)
            colour[c] = (float)random.NextDouble();
    }

    /// <summary>A foreground colour that differs from the background enough to be seen, but sometimes only just.</summary>
    private static void PickContrastingColour(DeterministicRandom random, ReadOnlySpan<float> background, Span<float> colour)
    {
        var minDistance = (float)random.Uniform(0.6, 0.9);
        for (var attempt = 0; attempt < 20; attempt++)
        {
            RandomColour(random, colour);
            var d = 0f;
            for (var c = 0; c < 3; c++)
                d += (colour[c] - background[c]) * (colour[c] - background[c]);
            if (MathF.Sqrt(d) >= minDistance)
                return;
        }
        // Fall back to the complement, always far enough away.
        for (var c = 0; c < 3; c++)
            colour[c] = 1f - background[c];
    }

    private static void ToBytes(ReadOnlySpan<float> canvas, Span<byte> destination)
    {
        for (var i = 0; i < canvas.Length; i++)
            destination[i] = (byte)Math.Clamp((int)MathF.Round(canvas[i] * 255f), 0, 255);
    }
}
