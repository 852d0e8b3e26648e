using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace SkyLight.Api.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class Hardening : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "last_error",
                table: "webhook_inbox",
                type: "TEXT",
                maxLength: 500,
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "set_aside_at",
                table: "webhook_inbox",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "version",
                table: "channels",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.CreateTable(
                name: "account_creations",
                columns: table => new
                {
                    id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    workspace_id = table.Column<int>(type: "INTEGER", nullable: false),
                    channel_type = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    provider = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    started_at = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_account_creations", x => x.id);
                });

            migrationBuilder.CreateIndex(
                name: "ix_account_creations_started_at",
                table: "account_creations",
                column: "started_at");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "account_creations");

            migrationBuilder.DropColumn(
                name: "last_error",
                table: "webhook_inbox");

            migrationBuilder.DropColumn(
                name: "set_aside_at",
                table: "webhook_inbox");

            migrationBuilder.DropColumn(
                name: "version",
                table: "channels");
        }
    }
}
