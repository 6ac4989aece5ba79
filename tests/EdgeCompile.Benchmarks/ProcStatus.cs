using System.Globalization;

namespace EdgeCompile.Benchmarks;

/// <summary>
/// Resident-set figures of the current process from /proc/self/status (Linux). RSS counts everything
/// resident: managed heap, native allocations, runtime code and touched pages of memory-mapped files.
/// </summary>
public readonly record struct ProcStatus(long VmHwm, long VmRss, long RssAnon, long RssFile)
{
    public static bool IsAvailable => File.Exists("/proc/self/status");

    public static ProcStatus Read()
    {
        long hwm = 0, rss = 0, anon = 0, file = 0;
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal)) hwm = Kb(line);
            else if (line.StartsWith("VmRSS:", StringComparison.Ordinal)) rss = Kb(line);
            else if (line.StartsWith("RssAnon:", StringComparison.Ordinal)) anon = Kb(line);
            else if (line.StartsWith("RssFile:", StringComparison.Ordinal)) file = Kb(line);
        }
        return new(hwm, rss, anon, file);
    }

    /// <summary>
    /// Resets the peak (VmHWM) to the current RSS (writing "5" to /proc/self/clear_refs, Linux 4.0+),
    /// so a later peak measures only what happens after this call. Returns false where not permitted.
    /// </summary>
    public static bool TryResetPeak()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    // "VmHWM:     123456 kB" → bytes
    private static long Kb(string line)
    {
        var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return long.Parse(parts[1], CultureInfo.InvariantCulture) * 1024;
    }
}
