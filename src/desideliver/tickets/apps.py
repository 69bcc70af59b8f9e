from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "desideliver.tickets"
    label = "tickets"
