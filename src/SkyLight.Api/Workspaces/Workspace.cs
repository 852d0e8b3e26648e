namespace SkyLight.Api.Workspaces;

/// <summary>A customer account of SkyLight; everything the API does is scoped to one.</summary>
internal sealed class Workspace
{
    public const string DefaultTimeZone = "Asia/Riyadh";

    public int Id { get; set; }
    public required string Name { get; set; }
    public required string TimeZone { get; set; }
    public bool IsActive { get; set; } = true;
    public required DateTimeOffset CreatedAt { get; init; }

    public List<ApiKey> ApiKeys { get; } = [];
}
