namespace CodeII.Experiments.Data.Synthetic;

/// <summary>A 3-D vector in the body frame: x to the patient's left, y inferior, z anterior.</summary>
public readonly record struct BodyVector(double X, double Y, double Z)
{
    public static BodyVector operator *(BodyVector v, double s) => new(v.X * s, v.Y * s, v.Z * s);
    public static BodyVector operator +(BodyVector a, BodyVector b) => new(a.X + b.X, a.Y + b.Y, a.Z + b.Z);
    public static BodyVector operator -(BodyVector v) => new(-v.X, -v.Y, -v.Z);
    public double Dot(BodyVector o) => X * o.X + Y * o.Y + Z * o.Z;
    public double Length => Math.Sqrt(Dot(this));
    public BodyVector Normalised() => this * (1 / Length);

    /// <summary>Rotates about the antero-posterior axis (frontal-plane axis shift), then about the vertical axis.</summary>
    public BodyVector Rotate(double frontalRadians, double horizontalRadians)
    {
        var (sf, cf) = Math.SinCos(frontalRadians);
        var x1 = X * cf - Y * sf;
        var y1 = X * sf + Y * cf;
        var (sh, ch) = Math.SinCos(horizontalRadians);
        return new BodyVector(x1 * ch - Z * sh, y1, x1 * sh + Z * ch);
    }
}

/// <summary>
/// One Gaussian lobe of the cardiac dipole: a wave (or part of one) whose direction is fixed and whose
/// magnitude rises and falls as exp(-t²/2σ²). Its support is taken as centre ± 2.5σ, where it is below 5 % of peak,
/// which is how the generator's ground-truth onsets and offsets are defined.
/// </summary>
public readonly record struct DipoleLobe(BodyVector Vector, double CentreSeconds, double SigmaSeconds)
{
    public const double SupportInSigmas = 2.5;
    public double Onset => CentreSeconds - SupportInSigmas * SigmaSeconds;
    public double Offset => CentreSeconds + SupportInSigmas * SigmaSeconds;
}

/// <summary>
/// Projects the heart vector onto the 12 standard leads. Limb leads follow Einthoven's triangle and the
/// Goldberger augmented leads, so III = II − I and aVR + aVL + aVF = 0 hold exactly, noise included; precordial
/// leads are directions in the horizontal plane scaled up because the electrodes sit close to the heart.
/// </summary>
public static class LeadProjection
{
    static readonly BodyVector LeadI = new(1, 0, 0);
    static readonly BodyVector LeadII = new(Math.Cos(Math.PI / 3), Math.Sin(Math.PI / 3), 0);

    // Horizontal-plane angles from the patient's left towards anterior, V1 (right parasternal) to V6 (mid-axillary).
    static readonly double[] PrecordialDegrees = [115, 95, 78, 60, 35, 10];
    static readonly double[] PrecordialVertical = [-0.10, -0.05, 0.0, 0.10, 0.15, 0.15];
    const double PrecordialGain = 1.4;

    public static readonly BodyVector[] PrecordialDirections = PrecordialDegrees
        .Select((deg, i) => new BodyVector(Math.Cos(deg * Math.PI / 180), PrecordialVertical[i], Math.Sin(deg * Math.PI / 180)) * PrecordialGain)
        .ToArray();

    /// <summary>Leads a 12-lead electrocardiograph records; the other four it derives from I and II.</summary>
    public static readonly int[] RecordedLeads = [0, 1, 6, 7, 8, 9, 10, 11];

    /// <summary>Writes I, II and V1–V6 (standard lead order) for heart-vector samples x, y, z.</summary>
    public static void ProjectRecordedLeads(ReadOnlySpan<double> x, ReadOnlySpan<double> y, ReadOnlySpan<double> z, float[][] leads, int offset)
    {
        for (var n = 0; n < x.Length; n++)
        {
            var v = new BodyVector(x[n], y[n], z[n]);
            leads[0][offset + n] = (float)v.Dot(LeadI);
            leads[1][offset + n] = (float)v.Dot(LeadII);
            for (var p = 0; p < 6; p++)
                leads[6 + p][offset + n] = (float)v.Dot(PrecordialDirections[p]);
        }
    }

    /// <summary>III = II − I (Einthoven), aVR = −(I + II)/2, aVL = I − II/2, aVF = II − I/2 (Goldberger), as devices compute them.</summary>
    public static void DeriveLimbLeads(float[][] leads, int offset, int length)
    {
        for (var n = offset; n < offset + length; n++)
        {
            var i = leads[0][n];
            var ii = leads[1][n];
            leads[2][n] = ii - i;
            leads[3][n] = -(i + ii) / 2;
            leads[4][n] = i - ii / 2;
            leads[5][n] = ii - i / 2;
        }
    }
}
