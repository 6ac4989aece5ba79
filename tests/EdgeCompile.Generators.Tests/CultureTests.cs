using System.Globalization;
using static EdgeCompile.Generators.Tests.Support.GeneratorHarness;

namespace EdgeCompile.Generators.Tests;

/// <summary>Numbers in the output never depend on the compiler process's culture.</summary>
public class CultureTests
{
    private const string Plan = """
        edgeplan 1
        class Literals
        arena 64
        input 0 x f32 2x3
        output 0 y f32 6
        call Probe.Literals in:0 out:0 i:-1 l:-5 f:-1.5 f:-1E-05 f:-3.4028235E+38 f:-0 f:NaN f:Inf f:-Inf ints:-1,2,-3
        end
        """;

    [Theory]
    [InlineData("sv-SE")]
    [InlineData("fa-IR")]
    public void Output_is_identical_under_a_culture_with_a_unicode_minus_sign(string cultureName)
    {
        string invariant = Generate(CultureInfo.InvariantCulture);
        var culture = CultureInfo.GetCultureInfo(cultureName);
        // Only meaningful when the culture really has a non-ASCII minus (ICU on: InvariantGlobalization=false).
        Assert.NotEqual("-", culture.NumberFormat.NegativeSign);

        string localized = Generate(culture);

        Assert.Equal(invariant, localized);
        Assert.Contains("(x, y, -1, -5L, -1.5f, -1E-05f, -3.4028235E+38f, -0f, float.NaN, float.PositiveInfinity, float.NegativeInfinity, s_shape0);", localized, StringComparison.Ordinal);
        Assert.Contains("s_shape0 = new int[] { -1, 2, -3 };", localized, StringComparison.Ordinal);
    }

    private static string Generate(CultureInfo culture)
    {
        CultureInfo saved = CultureInfo.CurrentCulture, savedUi = CultureInfo.CurrentUICulture;
        try
        {
            CultureInfo.CurrentCulture = CultureInfo.CurrentUICulture = culture;
            var (result, _) = Run([Plan("/obj/Literals.edgeplan", Plan)]);
            Assert.Empty(result.Diagnostics);
            return Assert.Single(result.Results[0].GeneratedSources).SourceText.ToString();
        }
        finally
        {
            CultureInfo.CurrentCulture = saved;
            CultureInfo.CurrentUICulture = savedUi;
        }
    }
}
