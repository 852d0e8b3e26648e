using System.Globalization;

namespace SkyLight.Api.Hosting;

/// <summary>
/// The conventions' <c>page</c> and <c>per_page</c>, read as text so that a number that does not parse or fit is a 422
/// on its field rather than a 400.
/// </summary>
internal readonly record struct Paging(int Page, int PerPage)
{
    /// <summary>Far past any real list, and small enough that the offset (page - 1) × per_page stays an int.</summary>
    private const int MaxPage = 1_000_000;
    private const int MaxPerPage = 100;
    private const int DefaultPerPage = 15;

    public int Skip => (Page - 1) * PerPage;

    /// <summary>Reads both values; each one that is not valid adds its error and reads as its default.</summary>
    public static Paging Read(string? page, string? perPage, Dictionary<string, string[]> errors) =>
        new(WholeNumber(page, "page", MaxPage, 1, errors), WholeNumber(perPage, "per_page", MaxPerPage, DefaultPerPage, errors));

    public PageMeta Meta(int total) => new(Page, Math.Max(1, (int)Math.Ceiling(total / (double)PerPage)), PerPage, total);

    /// <summary>A query value that must be a whole number from 1 to <paramref name="max"/>; absent, it is <paramref name="absent"/>.</summary>
    private static int WholeNumber(string? value, string field, int max, int absent, Dictionary<string, string[]> errors)
    {
        if (value is null)
        {
            return absent;
        }
        if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number >= 1 && number <= max)
        {
            return number;
        }
        errors[field] = [string.Create(CultureInfo.InvariantCulture, $"The {field} must be a whole number from 1 to {max}.")];
        return absent;
    }
}

/// <summary>The conventions' <c>meta</c> of a paginated list.</summary>
internal sealed record PageMeta(int CurrentPage, int LastPage, int PerPage, int Total);

/// <summary>SkyLight's paginated list: the envelope plus <c>meta</c>.</summary>
internal sealed record Page<T>(IReadOnlyList<T> Data, PageMeta Meta)
{
    [System.Text.Json.Serialization.JsonPropertyOrder(-1)]
    public bool Success { get; } = true;
}
