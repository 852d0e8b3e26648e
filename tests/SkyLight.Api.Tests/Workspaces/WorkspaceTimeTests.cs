using System.Net;
using SkyLight.Api.Workspaces;

namespace SkyLight.Api.Tests.Workspaces;

public sealed class WorkspaceTimeTests(SkyLightApp app) : IClassFixture<SkyLightApp>
{
    private static readonly DateTimeOffset Instant = SkyLightApp.Start;   // 2026-03-11T07:00:00Z

    [Theory]
    [InlineData("Asia/Riyadh", "2026-03-11T10:00:00+03:00")]
    [InlineData("America/New_York", "2026-03-11T03:00:00-04:00")]   // summer time began on 8 March
    [InlineData("Asia/Kolkata", "2026-03-11T12:30:00+05:30")]
    [InlineData("UTC", "2026-03-11T07:00:00+00:00")]
    public void UtcInstantIsRenderedInTheWorkspaceOffset(string zone, string expected)
    {
        Assert.Equal(expected, WorkspaceTime.Format(Instant, WorkspaceTime.FindZone(zone)!));
    }

    [Fact]
    public void TheSameZoneChangesOffsetWithDaylightSaving()
    {
        var newYork = WorkspaceTime.FindZone("America/New_York")!;

        Assert.Equal("2026-01-15T02:00:00-05:00", WorkspaceTime.Format(new DateTimeOffset(2026, 1, 15, 7, 0, 0, TimeSpan.Zero), newYork));
    }

    [Theory]
    [InlineData("Mars/Olympus_Mons")]
    [InlineData("")]
    [InlineData("Arab Standard Time")]   // a Windows id: we promise IANA ids only
    [InlineData("Asia")]                 // /usr/share/zoneinfo holds directories and files that are not zones
    [InlineData("America")]
    [InlineData("Etc")]
    [InlineData("localtime")]
    [InlineData("posixrules")]
    [InlineData("Factory")]
    [InlineData("leapseconds")]
    [InlineData("zone.tab")]
    [InlineData("posix/Asia/Riyadh")]
    [InlineData("right/UTC")]
    [InlineData("asia/riyadh")]          // found on a case-insensitive lookup, but not the id
    [InlineData("/etc/localtime")]
    [InlineData("../zoneinfo/Asia/Riyadh")]
    public void UnknownZonesAreNotFound(string zone)
    {
        Assert.Null(WorkspaceTime.FindZone(zone));
    }

    [Theory]
    [InlineData("Asia/Riyadh")]
    [InlineData("UTC")]
    [InlineData("Etc/UTC")]
    [InlineData("Europe/London")]
    [InlineData("America/Argentina/Buenos_Aires")]
    [InlineData("Asia/Calcutta")]        // an alias IANA keeps for old data
    [InlineData("Antarctica/Troll")]     // a zone without a Windows equivalent
    [InlineData("Etc/GMT+5")]
    public void IanaZonesAreFoundUnderTheirOwnId(string zone)
    {
        Assert.Equal(zone, WorkspaceTime.FindZone(zone)?.Id);
    }

    [Fact]
    public async Task ApiRendersTimestampsInEachWorkspacesOwnZone()
    {
        var ct = TestContext.Current.CancellationToken;
        Assert.Equal(Instant, app.Time.GetUtcNow());   // workspaces below are created at this instant
        var riyadh = await app.NewWorkspaceAsync("Asia/Riyadh");
        var newYork = await app.NewWorkspaceAsync("America/New_York");

        var seenInRiyadh = (await (await riyadh.Client.GetAsync("/api/v1/account", ct)).BodyAsync()).GetProperty("data");
        var seenInNewYork = (await (await newYork.Client.GetAsync("/api/v1/account", ct)).BodyAsync()).GetProperty("data");

        Assert.Equal("2026-03-11T10:00:00+03:00", seenInRiyadh.GetProperty("created_at").GetString());
        Assert.Equal("2026-03-11T03:00:00-04:00", seenInNewYork.GetProperty("created_at").GetString());
    }

    [Theory]
    [InlineData("Asia")]
    [InlineData("America")]
    [InlineData("Etc")]
    [InlineData("localtime")]
    [InlineData("posixrules")]
    [InlineData("asia/riyadh")]
    [InlineData("posix/Asia/Riyadh")]
    [InlineData("../../../etc/passwd")]
    public async Task ATimeZoneThatIsNotAnIanaIdIs422WithTheFieldsOwnMessage(string zone)
    {
        var response = await PatchTimeZoneAsync(zone);

        await response.AssertErrorAsync(422, "The given data was invalid.", "errors");
        Assert.Equal(["The Timezone field must be an IANA time zone such as Asia/Riyadh."],
            (await response.BodyAsync()).GetProperty("errors").GetProperty("timezone").EnumerateArray().Select(m => m.GetString()));
    }

    [Theory]
    [InlineData("UTC")]
    [InlineData("Etc/UTC")]
    [InlineData("Europe/London")]
    [InlineData("America/Argentina/Buenos_Aires")]
    public async Task IanaTimeZonesAreAccepted(string zone)
    {
        var response = await PatchTimeZoneAsync(zone);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(zone, (await response.BodyAsync()).GetProperty("data").GetProperty("timezone").GetString());
    }

    private async Task<HttpResponseMessage> PatchTimeZoneAsync(string zone)
    {
        var workspace = await app.NewWorkspaceAsync();
        return await workspace.Client.SendAsync(Json.Request(HttpMethod.Patch, "/api/v1/account", $$"""{"timezone": "{{zone}}"}"""), TestContext.Current.CancellationToken);
    }
}
