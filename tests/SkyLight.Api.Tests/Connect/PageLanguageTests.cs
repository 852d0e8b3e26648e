using System.Text.RegularExpressions;
using SkyLight.Api.Connect;
using SkyLight.Api.Tests.Channels;

namespace SkyLight.Api.Tests.Connect;

/// <summary>The page's language: every text in both, Arabic right to left, chosen by ?lang= or Accept-Language.</summary>
public sealed partial class PageLanguageTests(ChannelsApp app) : IClassFixture<ChannelsApp>
{
    [Theory]
    [InlineData("whatsapp")]
    [InlineData("telegram")]
    [InlineData("instagram")]
    public void EveryTextExistsInBothLanguagesAndTheArabicHasNoLatinWord(string type)
    {
        var english = PageText.For(PageText.English, type);
        var arabic = PageText.For(PageText.Arabic, type);

        Assert.Equal(english.Keys.Order(), arabic.Keys.Order());
        Assert.All(arabic, text => Assert.DoesNotMatch(LatinLetter(), text.Value));
        Assert.All(english, text => Assert.DoesNotMatch(ArabicLetter(), text.Value));
    }

    [Theory]
    [InlineData(null, null, "en", "ltr")]
    [InlineData("ar-SA,ar;q=0.9,en;q=0.8", null, "ar", "rtl")]
    [InlineData("fr-FR,ar;q=0.5,en;q=0.4", null, "ar", "rtl")]
    [InlineData("en-US,ar;q=0.9", null, "en", "ltr")]
    [InlineData("ar", "en", "en", "ltr")]
    [InlineData(null, "ar", "ar", "rtl")]
    [InlineData("de", "xx", "en", "ltr")]
    [InlineData(";;;q=abc,*", null, "en", "ltr")]
    public async Task TheLanguageComesFromLangThenAcceptLanguage(string? acceptLanguage, string? lang, string expected, string direction)
    {
        var workspace = await app.NewWorkspaceAsync();
        var (link, _) = await ConnectPageClient.CreateLinkAsync(workspace.Client, new { type = "whatsapp" });
        using var page = await ConnectPageClient.OpenAsync(app, link.Url! + (lang is null ? "" : $"?lang={lang}"), acceptLanguage);

        Assert.Contains($"<html lang=\"{expected}\" dir=\"{direction}\">", page.PageHtml, StringComparison.Ordinal);
        Assert.Contains(expected == "ar" ? "ربط واتساب" : "Connect WhatsApp", page.PageHtml, StringComparison.Ordinal);
    }

    [GeneratedRegex("[A-Za-z]")]
    private static partial Regex LatinLetter();

    [GeneratedRegex(@"\p{IsArabic}")]
    private static partial Regex ArabicLetter();
}
