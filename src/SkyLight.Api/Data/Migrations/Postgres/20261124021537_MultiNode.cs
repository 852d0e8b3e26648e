using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace SkyLight.Api.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class MultiNode : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "leased_until",
                table: "webhook_inbox",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "leased_until",
                table: "remote_deletions",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "last_polled_at",
                table: "connect_attempts",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "job_leases",
                columns: table => new
                {
                    name = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    leased_until = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_job_leases", x => x.name);
                });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "job_leases");

            migrationBuilder.DropColumn(
                name: "leased_until",
                table: "webhook_inbox");

            migrationBuilder.DropColumn(
                name: "leased_until",
                table: "remote_deletions");

            migrationBuilder.DropColumn(
                name: "last_polled_at",
                table: "connect_attempts");
        }
    }
}
