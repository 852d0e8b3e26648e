using System.Globalization;

namespace SkyLight.Api.Workspaces;

/// <summary>Renders stored UTC instants the way the Channels API shows them: in the workspace's own offset.</summary>
internal static class WorkspaceTime
{
    public static string Format(DateTimeOffset instant, TimeZoneInfo zone) =>
        TimeZoneInfo.ConvertTime(instant, zone).ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture);

    public static string? Format(DateTimeOffset? instant, TimeZoneInfo zone) =>
        instant is { } value ? Format(value, zone) : null;

    /// <summary>Finds an IANA zone; null when the id is not one this machine knows.</summary>
    public static TimeZoneInfo? FindZone(string? id)
    {
        if (string.IsNullOrWhiteSpace(id))
        {
            return null;
        }
        try
        {
            var zone = TimeZoneInfo.FindSystemTimeZoneById(id);
            // Windows ids ("Arab Standard Time") resolve too; we store and promise IANA ids only.
            return zone.HasIanaId ? zone : null;
        }
        catch (TimeZoneNotFoundException)
        {
            return null;
        }
        catch (InvalidTimeZoneException)
        {
            return null;
        }
    }
}
