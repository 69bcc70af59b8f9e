from django.urls import path

from desideliver.tickets.views import (
    AttachmentDownloadView,
    CloseTicketView,
    OpenTicketView,
    TicketDetailView,
    TicketListView,
    TicketMessageView,
)

urlpatterns = [
    path("", TicketListView.as_view(), name="ticket-list"),
    path("create/", OpenTicketView.as_view(), name="ticket-create"),
    path("<int:pk>/", TicketDetailView.as_view(), name="ticket-detail"),
    path("<int:pk>/messages/", TicketMessageView.as_view(), name="ticket-message"),
    path("<int:pk>/close/", CloseTicketView.as_view(), name="ticket-close"),
    path("attachments/<int:pk>/", AttachmentDownloadView.as_view(), name="ticket-attachment"),
]
