"""Building blocks of the order-records backfill tool."""
