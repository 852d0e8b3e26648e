namespace SkyLight.Api.Tenancy;

/// <summary>
/// The workspace a request (or a background job's unit of work) acts for. Set once by authentication;
/// the database's query filters read it, so a handler cannot reach another workspace's rows.
/// </summary>
internal sealed class CurrentWorkspace
{
    private int? _id;

    public int Id => _id ?? throw new InvalidOperationException("No workspace is set for this scope.");
    public int ApiKeyId { get; private set; }
    public TimeZoneInfo TimeZone { get; private set; } = TimeZoneInfo.Utc;
    public bool IsSet => _id is not null;

    public void Set(int workspaceId, TimeZoneInfo timeZone, int apiKeyId = 0)
    {
        _id = workspaceId;
        TimeZone = timeZone;
        ApiKeyId = apiKeyId;
    }
}
