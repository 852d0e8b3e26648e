namespace SkyLight.Api.Tests;

/// <summary>
/// Figures a test reports whether it passes or fails (requests sent, answers by status, what was lost): into the
/// test's output, and appended to the file named by <c>SKYLIGHT_TEST_REPORT</c>, which .ci/run prints after each
/// pass, since the test runner shows the output of failed tests only.
/// </summary>
internal static class TestReport
{
    private static readonly Lock Sync = new();

    public static void Line(string line)
    {
        TestContext.Current.TestOutputHelper?.WriteLine(line);
        if (Environment.GetEnvironmentVariable("SKYLIGHT_TEST_REPORT") is { Length: > 0 } path)
        {
            lock (Sync)
            {
                File.AppendAllLines(path, [line]);
            }
        }
    }
}
