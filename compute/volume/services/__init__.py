"""The only code that changes volume rows: volumes, attachments, charges, completion of backend jobs."""
