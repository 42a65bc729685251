"""The REST channel (/webhooks/rest/webhook): for trying the assistant and for partners."""
