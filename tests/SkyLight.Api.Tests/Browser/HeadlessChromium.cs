using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;

namespace SkyLight.Api.Tests.Browser;

/// <summary>
/// Debian's Chromium, headless, driven through Debian's ChromeDriver (both from apt; .ci/run installs them). The paths
/// are given, so Selenium Manager never runs and nothing is downloaded. One browser per test, with a fresh profile.
/// </summary>
public sealed class HeadlessChromium : IDisposable
{
    private const string ChromiumPath = "/usr/bin/chromium";
    private const string DriverPath = "/usr/bin/chromedriver";

    private readonly string _profile;

    private HeadlessChromium(ChromeDriver driver, string profile)
    {
        Driver = driver;
        _profile = profile;
    }

    public ChromeDriver Driver { get; }

    /// <summary>Starts a browser whose Accept-Language is <paramref name="language"/> (its default, English, when null).</summary>
    public static HeadlessChromium Start(string? language = null)
    {
        if (!File.Exists(ChromiumPath) || !File.Exists(DriverPath))
        {
            const string Missing = "needs Chromium and ChromeDriver: apt-get install chromium chromium-driver (.ci/run installs them)";
            // CI must run them; elsewhere (a fresh machine running dotnet test) they are skipped, saying what to install
            if (Environment.GetEnvironmentVariable("SKYLIGHT_REQUIRE_BROWSER") == "1")
            {
                Assert.Fail(Missing);
            }
            Assert.Skip(Missing);
        }
        var profile = Directory.CreateTempSubdirectory("skylight-chromium-").FullName;
        var options = new ChromeOptions { BinaryLocation = ChromiumPath };
        options.AddArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-extensions", "--window-size=900,1200",
            $"--user-data-dir={profile}");
        if (language is not null)
        {
            options.AddArgument($"--lang={language}");
            options.AddUserProfilePreference("intl.accept_languages", language);
        }
        var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(DriverPath)!, Path.GetFileName(DriverPath));
        service.SuppressInitialDiagnosticInformation = true;
        service.HideCommandPromptWindow = true;
        return new HeadlessChromium(new ChromeDriver(service, options, TimeSpan.FromSeconds(60)), profile);
    }

    /// <summary>The screen the page shows now (its body's data-screen).</summary>
    public string Screen => Driver.FindElement(By.TagName("body")).GetDomAttribute("data-screen") ?? "";

    /// <summary>Waits until the page shows <paramref name="screen"/>; fails with the screen and message it shows instead.</summary>
    public void WaitForScreen(string screen, double seconds = 20) =>
        WaitUntil(() => Screen == screen, () => $"the page never showed '{screen}'; it shows '{Screen}' with message '{Text("message")}'", seconds);

    /// <summary>Polls the condition (the browser does its work meanwhile) until it holds, or fails the test.</summary>
    public static void WaitUntil(Func<bool> condition, Func<string> because, double seconds = 20)
    {
        var deadline = TimeProvider.System.GetTimestamp() + (long)(seconds * TimeProvider.System.TimestampFrequency);
        while (true)
        {
            try
            {
                if (condition())
                {
                    return;
                }
            }
            catch (StaleElementReferenceException)
            {
                // the page re-rendered the element between the lookup and the read: look again
            }
            if (TimeProvider.System.GetTimestamp() > deadline)
            {
                Assert.Fail(because());
            }
            Thread.Sleep(50);
        }
    }

    public IWebElement Element(string id) => Driver.FindElement(By.Id(id));

    public string Text(string id) => Driver.FindElements(By.Id(id)) is [var element, ..] ? element.Text : "";

    /// <summary>Saves what the browser shows as artifacts/screenshots/<paramref name="name"/>.png, and returns the file.</summary>
    public string Screenshot(string name)
    {
        var folder = Path.Combine(RepositoryRoot(), "artifacts", "screenshots");
        Directory.CreateDirectory(folder);
        var file = Path.Combine(folder, $"{name}.png");
        Driver.GetScreenshot().SaveAsFile(file);
        TestReport.Line($"browser: screenshot {Path.GetRelativePath(RepositoryRoot(), file)}");
        if (Environment.GetEnvironmentVariable("SKYLIGHT_UPDATE_SCREENSHOTS") == "1" && name is "connect-en" or "connect-ar")
        {
            File.Copy(file, Path.Combine(RepositoryRoot(), "docs", "screenshots", $"{name}.png"), overwrite: true);   // the README's
        }
        return file;
    }

    public static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "SkyLight.slnx")))
            {
                return folder.FullName;
            }
        }
        throw new InvalidOperationException("SkyLight.slnx not found above the test binaries");
    }

    public void Dispose()
    {
        Driver.Quit();
        Driver.Dispose();
        try
        {
            Directory.Delete(_profile, recursive: true);
        }
        catch (IOException)
        {
            // Chromium may still be writing its profile as it exits; the temp folder is cleaned eventually
        }
    }
}
