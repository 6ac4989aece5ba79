namespace EdgeCompile.Compiler.Pruning;

/// <summary>
/// Normal equations of a multi-output linear fit y ≈ W·x (+ b): accumulates G = Σ x·xᵀ, R = Σ x·yᵀ and Σ|y|² in double,
/// row by row in the caller's order (so the sums, and the solution, are the same bytes on every machine), then solves the
/// ridge problem min Σ|y − W·x|² + λ·|W − W₀|² in closed form by Cholesky. Regularizing toward the current weights W₀
/// (not toward 0) means little data moves the weights little.
/// </summary>
public sealed class LeastSquares
{
    /// <summary>Inputs per row, including the constant 1 of the intercept when <see cref="Intercept"/>.</summary>
    public int Dimension { get; }
    public int Outputs { get; }
    public bool Intercept { get; }
    public long Rows { get; private set; }
    private readonly double[] _g;   // lower triangle used, row-major Dimension × Dimension
    private readonly double[] _r;   // Dimension × Outputs
    private double _yy;

    public LeastSquares(int inputs, int outputs, bool intercept)
    {
        Intercept = intercept;
        Dimension = inputs + (intercept ? 1 : 0);
        Outputs = outputs;
        _g = new double[(long)Dimension * Dimension];
        _r = new double[(long)Dimension * outputs];
    }

    /// <summary>Adds one row: <paramref name="x"/> (length inputs; the intercept's 1 is appended here) and its target.</summary>
    public void Add(ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        int d = Dimension, inputs = x.Length, m = Outputs;
        for (int i = 0; i < d; i++)
        {
            double xi = i < inputs ? x[i] : 1.0;
            if (xi == 0) continue; // activations after ReLU are often 0: skip their row of the outer product
            int gi = i * d;
            for (int j = 0; j <= i; j++)
                _g[gi + j] += xi * (j < inputs ? x[j] : 1.0);
            int ri = i * m;
            for (int o = 0; o < m; o++) _r[ri + o] += xi * y[o];
        }
        for (int o = 0; o < m; o++) _yy += y[o] * y[o];
        Rows++;
    }

    /// <summary>
    /// Solves for W (Outputs × inputs, row-major) and b (Outputs; zeros without intercept), regularized toward
    /// <paramref name="w0"/> (Outputs × inputs) with λ = <paramref name="ridge"/> × the mean diagonal of G (the intercept
    /// is not regularized). Returns null when the system is singular even with the ridge (e.g. no rows).
    /// </summary>
    public (double[] W, double[] B)? Solve(ReadOnlySpan<double> w0, double ridge)
    {
        int d = Dimension, m = Outputs, inputs = d - (Intercept ? 1 : 0);
        if (Rows == 0 || inputs == 0) return null;
        double trace = 0;
        for (int i = 0; i < inputs; i++) trace += _g[i * d + i];
        double lambda = ridge * Math.Max(trace / inputs, 1e-12);
        var a = new double[(long)d * d];
        for (int i = 0; i < d; i++)
            for (int j = 0; j <= i; j++)
                a[i * d + j] = _g[i * d + j] + (i == j && i < inputs ? lambda : 0);
        if (Intercept) a[(d - 1) * d + (d - 1)] += 1e-12 * Math.Max(Rows, 1);
        if (!Cholesky(a, d)) return null;

        var w = new double[(long)m * inputs];
        var b = new double[m];
        var rhs = new double[d];
        for (int o = 0; o < m; o++)
        {
            for (int i = 0; i < d; i++) rhs[i] = _r[i * m + o] + (i < inputs ? lambda * w0[o * inputs + i] : 0);
            SolveInPlace(a, d, rhs);
            for (int i = 0; i < inputs; i++) w[o * inputs + i] = rhs[i];
            b[o] = Intercept ? rhs[d - 1] : 0;
        }
        return (w, b);
    }

    /// <summary>
    /// As <see cref="Solve"/>, but output row o may only use the inputs where <paramref name="keep"/>[o·inputs + i] is true
    /// (the others stay 0): one smaller ridge system per row, for weights that magnitude pruning zeroed.
    /// </summary>
    public (double[] W, double[] B)? SolveMasked(ReadOnlySpan<double> w0, double ridge, bool[] keep)
    {
        int d = Dimension, m = Outputs, inputs = d - (Intercept ? 1 : 0);
        if (Rows == 0 || inputs == 0) return null;
        double trace = 0;
        for (int i = 0; i < inputs; i++) trace += _g[i * d + i];
        double lambda = ridge * Math.Max(trace / inputs, 1e-12);
        var w = new double[(long)m * inputs];
        var b = new double[m];
        var idx = new int[d];
        for (int o = 0; o < m; o++)
        {
            int s = 0;
            for (int i = 0; i < inputs; i++) if (keep[o * inputs + i]) idx[s++] = i;
            if (Intercept) idx[s++] = d - 1;
            if (s == 0) continue;
            var a = new double[s * s];
            var rhs = new double[s];
            for (int p = 0; p < s; p++)
            {
                int i = idx[p];
                for (int q = 0; q <= p; q++)
                {
                    int j = idx[q];
                    a[p * s + q] = (j <= i ? _g[i * d + j] : _g[j * d + i]) + (p == q && i < inputs ? lambda : 0);
                }
                if (i == d - 1 && Intercept) a[p * s + p] += 1e-12 * Rows;
                rhs[p] = _r[i * m + o] + (i < inputs ? lambda * w0[o * inputs + i] : 0);
            }
            if (!Cholesky(a, s)) return null;
            SolveInPlace(a, s, rhs);
            for (int p = 0; p < s; p++)
            {
                if (idx[p] < inputs) w[o * inputs + idx[p]] = rhs[p];
                else b[o] = rhs[p];
            }
        }
        return (w, b);
    }

    /// <summary>Σ|y − W·x − b|² / Σ|y|² over the accumulated rows, from the sums alone (no second pass).</summary>
    public double RelativeError(ReadOnlySpan<double> w, ReadOnlySpan<double> b)
    {
        int d = Dimension, m = Outputs, inputs = d - (Intercept ? 1 : 0);
        if (_yy <= 0) return 0;
        var coef = new double[d];
        double err = _yy;
        for (int o = 0; o < m; o++)
        {
            for (int i = 0; i < inputs; i++) coef[i] = w[o * inputs + i];
            if (Intercept) coef[d - 1] = b[o];
            double cross = 0, quad = 0;
            for (int i = 0; i < d; i++)
            {
                if (coef[i] == 0) continue;
                cross += coef[i] * _r[i * m + o];
                double row = 0;
                for (int j = 0; j < d; j++) row += (j <= i ? _g[i * d + j] : _g[j * d + i]) * coef[j];
                quad += coef[i] * row;
            }
            err += quad - 2 * cross;
        }
        return Math.Max(err, 0) / _yy;
    }

    /// <summary>In-place lower Cholesky factor of a symmetric positive definite matrix (lower triangle given).</summary>
    private static bool Cholesky(double[] a, int n)
    {
        for (int j = 0; j < n; j++)
        {
            double s = a[j * n + j];
            for (int k = 0; k < j; k++) s -= a[j * n + k] * a[j * n + k];
            if (!(s > 0)) return false;
            double l = Math.Sqrt(s);
            a[j * n + j] = l;
            for (int i = j + 1; i < n; i++)
            {
                double t = a[i * n + j];
                int ii = i * n, jj = j * n;
                for (int k = 0; k < j; k++) t -= a[ii + k] * a[jj + k];
                a[i * n + j] = t / l;
            }
        }
        return true;
    }

    private static void SolveInPlace(double[] l, int n, double[] b)
    {
        for (int i = 0; i < n; i++)
        {
            double s = b[i];
            for (int k = 0; k < i; k++) s -= l[i * n + k] * b[k];
            b[i] = s / l[i * n + i];
        }
        for (int i = n - 1; i >= 0; i--)
        {
            double s = b[i];
            for (int k = i + 1; k < n; k++) s -= l[k * n + i] * b[k];
            b[i] = s / l[i * n + i];
        }
    }
}
