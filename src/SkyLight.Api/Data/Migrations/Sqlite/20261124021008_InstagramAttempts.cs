using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace SkyLight.Api.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class InstagramAttempts : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "checkpoint_type",
                table: "connect_attempts",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "last_resend_at",
                table: "connect_attempts",
                type: "INTEGER",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "checkpoint_type",
                table: "connect_attempts");

            migrationBuilder.DropColumn(
                name: "last_resend_at",
                table: "connect_attempts");
        }
    }
}
