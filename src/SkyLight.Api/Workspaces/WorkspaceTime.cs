using System.Collections.Frozen;
using System.Globalization;

namespace SkyLight.Api.Workspaces;

/// <summary>Renders stored UTC instants the way the Channels API shows them: in the workspace's own offset.</summary>
internal static class WorkspaceTime
{
    private static readonly FrozenSet<string> ListedIds = TimeZoneInfo.GetSystemTimeZones().Select(z => z.Id).ToFrozenSet(StringComparer.Ordinal);

    public static string Format(DateTimeOffset instant, TimeZoneInfo zone) =>
        TimeZoneInfo.ConvertTime(instant, zone).ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture);

    public static string? Format(DateTimeOffset? instant, TimeZoneInfo zone) =>
        instant is { } value ? Format(value, zone) : null;

    /// <summary>The conventions' UTC form, for resources outside the Channels section: <c>2026-03-11T07:00:00Z</c>.</summary>
    public static string Utc(DateTimeOffset instant) => instant.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    public static string? Utc(DateTimeOffset? instant) => instant is { } value ? Utc(value) : null;

    /// <summary>
    /// Finds an IANA zone by its exact id; null for anything else. The zoneinfo directory answers for more than zones:
    /// its folders ("Asia" throws), its own files ("localtime", "posixrules": the server's zone), other paths and other
    /// casings ("asia/riyadh"). So an id counts when the runtime lists it (the canonical ids and UTC) or ICU maps it to a
    /// Windows zone (IANA's links too: Etc/UTC, Asia/Calcutta), and the zone found carries that very id.
    /// </summary>
    public static TimeZoneInfo? FindZone(string? id)
    {
        if (id is null || !(ListedIds.Contains(id) || TimeZoneInfo.TryConvertIanaIdToWindowsId(id, out _)))
        {
            return null;
        }
        try
        {
            var zone = TimeZoneInfo.FindSystemTimeZoneById(id);
            // on Windows the listed ids are Windows ids ("Arab Standard Time"); we store and promise IANA ids only
            return zone.HasIanaId && zone.Id == id ? zone : null;
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
